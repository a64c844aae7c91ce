package main

import (
	"bytes"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// seekReaderAt is what http.ServeContent and the model hashing need.
type seekReaderAt interface {
	io.ReadSeeker
	io.ReaderAt
}

// openContent opens a file of fsys for serving without copying it: embedded
// files (and fstest.MapFS files) already seek and read at offsets; any
// other fs.File is read into memory once.
func openContent(fsys fs.FS, name string) (seekReaderAt, int64, io.Closer, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, 0, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, nil, err
	}
	if c, ok := f.(seekReaderAt); ok {
		return c, info.Size(), f, nil
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, 0, nil, err
	}
	return bytes.NewReader(data), int64(len(data)), f, nil
}

// serveContent is http.ServeContent, through which every response with a
// body from a file goes, with one fix: a zero-length suffix range ("-0")
// is unsatisfiable (RFC 9110, 14.1.1), but Go answers "bytes=-0" with 206
// and an impossible Content-Range (Go issue 81262). Such ranges are
// dropped; a Range header left with none becomes one that Go itself
// answers with 416 and "Content-Range: bytes */size", after its usual
// precondition checks.
func serveContent(w http.ResponseWriter, r *http.Request, name string, modTime time.Time, content io.ReadSeeker) {
	if specs, ok := strings.CutPrefix(r.Header.Get("Range"), "bytes="); ok {
		var kept []string
		for _, spec := range strings.Split(specs, ",") {
			if !isEmptySuffixRange(strings.TrimSpace(spec)) {
				kept = append(kept, spec)
			}
		}
		if n := strings.Count(specs, ",") + 1; len(kept) < n {
			if len(kept) == 0 {
				size, err := content.Seek(0, io.SeekEnd)
				if err == nil {
					_, err = content.Seek(0, io.SeekStart)
				}
				if err != nil {
					http.Error(w, "cannot read file", http.StatusInternalServerError)
					return
				}
				kept = []string{strconv.FormatInt(size, 10) + "-"} // starts past the end
			}
			r = r.Clone(r.Context())
			r.Header.Set("Range", "bytes="+strings.Join(kept, ","))
		}
	}
	http.ServeContent(w, r, name, modTime, content)
}

// isEmptySuffixRange reports whether a range spec asks for the last zero
// bytes ("-0", "-000").
func isEmptySuffixRange(spec string) bool {
	digits, ok := strings.CutPrefix(spec, "-")
	return ok && digits != "" && strings.Trim(digits, "0") == ""
}
