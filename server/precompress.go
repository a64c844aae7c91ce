package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/andybalholm/brotli"

	"vggo/internal/atomicfile"
)

// The precompress subcommand writes the .br and .gz siblings that the
// server sends instead of .wasm, .js and .css files when the client accepts
// them, so nothing is compressed per request:
//
//	vggo-server precompress [-brotli-quality 11] DIR...
//
// It walks each DIR; a sibling is (re)written only when it is missing or
// older than its source, and is removed when compression does not make the
// file smaller (the server then sends the original). Writes are atomic
// (internal/atomicfile), so a server reading the tree never sees a
// half-written sibling. make runs it after building the wasm binaries.

// precompressOptions are the compression settings.
type precompressOptions struct {
	brotliQuality int // 0..11; 11 is slowest and smallest
}

// runPrecompress is the precompress subcommand.
func runPrecompress(args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("vggo-server precompress", flag.ContinueOnError)
	flags.SetOutput(stderr)
	quality := flags.Int("brotli-quality", brotli.BestCompression, "brotli quality, 0..11")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() == 0 {
		return fmt.Errorf("precompress: no directory given")
	}
	if *quality < 0 || *quality > 11 {
		return fmt.Errorf("precompress: -brotli-quality %d: want 0..11", *quality)
	}
	opts := precompressOptions{brotliQuality: *quality}
	for _, dir := range flags.Args() {
		if err := precompressDir(dir, opts, stdout); err != nil {
			return err
		}
	}
	return nil
}

// precompressDir precompresses every eligible file below dir.
func precompressDir(dir string, opts precompressOptions, report io.Writer) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() || !isPrecompressible(p) || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		for _, e := range encodings {
			if err := precompressFile(p, e.suffix, opts, report); err != nil {
				return err
			}
		}
		return nil
	})
}

// precompressFile writes src+suffix (".br" or ".gz") when it is missing or
// older than src.
func precompressFile(src, suffix string, opts precompressOptions, report io.Writer) error {
	dst := src + suffix
	srcInfo, err := os.Stat(src)
	if err != nil {
		return err
	}
	if dstInfo, err := os.Stat(dst); err == nil && !dstInfo.ModTime().Before(srcInfo.ModTime()) {
		return nil // up to date
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	// Compressed in memory first: whether the sibling is worth writing is
	// known only at the end, and the largest source (app.wasm) is a few MB.
	var compressed bytes.Buffer
	var enc io.WriteCloser
	switch suffix {
	case ".br":
		enc = brotli.NewWriterOptions(&compressed, brotli.WriterOptions{Quality: opts.brotliQuality, LGWin: 24})
	case ".gz":
		if enc, err = gzip.NewWriterLevel(&compressed, gzip.BestCompression); err != nil {
			return err
		}
	default:
		return fmt.Errorf("precompress: unknown suffix %q", suffix)
	}
	if _, err := io.Copy(enc, in); err != nil {
		return fmt.Errorf("precompress %s: %w", src, err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("precompress %s: %w", src, err)
	}
	size := int64(compressed.Len())
	if size >= srcInfo.Size() {
		// Not worth it: make sure no stale sibling is served.
		if err := os.Remove(dst); err != nil && !os.IsNotExist(err) {
			return err
		}
		fmt.Fprintf(report, "%s: %s would not be smaller, skipped\n", src, suffix)
		return nil
	}
	if err := atomicfile.WriteBytes(dst, 0o644, compressed.Bytes()); err != nil {
		return fmt.Errorf("precompress %s: %w", dst, err)
	}
	fmt.Fprintf(report, "%s: %d → %d bytes (%.1f%%)\n", dst, srcInfo.Size(), size, 100*float64(size)/float64(srcInfo.Size()))
	return nil
}
