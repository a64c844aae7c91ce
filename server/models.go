package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// modelExt is the extension of every model file the server lists and
// serves; the vggo model file is a safetensors file named *.vggo.safetensors.
const (
	modelExt     = ".safetensors"
	vggoModelExt = ".vggo.safetensors"
	// embeddedModelDir is where the default model(s) live in the web tree.
	embeddedModelDir = "models"
)

// modelEntry is one model of the /models index. The JSON names match the
// client's protocol.ModelEntry (package vggo/wasm/protocol); a test decodes
// the index with protocol.ParseIndex to keep the two in step.
type modelEntry struct {
	Name       string   `json:"name"`              // file name without .vggo.safetensors
	File       string   `json:"file"`              // file name, downloadable at URL
	URL        string   `json:"url"`               // /models/<file>
	Classes    []string `json:"classes,omitempty"` // class names in output order
	InputSize  int      `json:"inputSize,omitempty"`
	Bytes      int64    `json:"bytes"`
	SHA256     string   `json:"sha256"` // lower-case hex of the whole file; also its ETag
	Preprocess string   `json:"preprocess,omitempty"`
	Head       string   `json:"head,omitempty"`
	Arch       string   `json:"arch,omitempty"`
	WidthDiv   int      `json:"widthDiv,omitempty"`
	Embedded   bool     `json:"embedded,omitempty"` // built into the server binary (the default model)
	Error      string   `json:"error,omitempty"`    // set when the file cannot be read as a model
}

// modelIndex is the JSON document served at /models.
type modelIndex struct {
	Models []modelEntry `json:"models"`
}

// modelStore knows the models: the embedded default(s) from the web tree and
// the regular files of an optional directory. The directory is rescanned on
// every index request (one ReadDir and one Lstat per file); a file version
// is hashed and its metadata read once, in the background (factsCache).
// Until then the index leaves it out, and a download of it waits for its
// own hash only.
type modelStore struct {
	webFS     fs.FS     // embedded tree; models under embeddedModelDir
	embedTime time.Time // Last-Modified of embedded models; zero: none
	dir       string    // extra model directory, "" for none; for logs
	root      *os.Root  // dir, opened; nil for none
	log       *slog.Logger

	embedded *factsCache
	onDisk   *factsCache
	// hashSlots bounds how many directory files are hashed at once, so
	// a folder of new big files does not take every core.
	hashSlots chan struct{}

	mu      sync.Mutex
	skipped map[string]string // directory file → why it is not listed, logged once
}

// hashers is how many directory files are hashed at the same time.
const hashers = 2

func newModelStore(webFS fs.FS, embedTime time.Time, dir string, log *slog.Logger) *modelStore {
	s := &modelStore{
		webFS:     webFS,
		embedTime: embedTime,
		dir:       dir,
		log:       log,
		embedded:  newFactsCache(),
		onDisk:    newFactsCache(),
		hashSlots: make(chan struct{}, hashers),
		skipped:   make(map[string]string),
	}
	if dir != "" {
		root, err := os.OpenRoot(dir)
		if err != nil {
			log.Warn("cannot open models directory; serving the embedded models only", "dir", dir, "error", err)
		}
		s.root = root
	}
	return s
}

// close stops hashing in progress.
func (s *modelStore) close() {
	s.embedded.close()
	s.onDisk.close()
	if s.root != nil {
		s.root.Close()
	}
}

// isModelFileName reports whether name is a plain file name the store
// lists and serves: a single path element, not hidden, ending in
// .safetensors.
func isModelFileName(name string) bool {
	return name != "" && !strings.HasPrefix(name, ".") && strings.HasSuffix(name, modelExt) &&
		!strings.ContainsAny(name, "/\\\x00") && len(name) > len(modelExt)
}

// modelName is the display name of a model file.
func modelName(file string) string {
	if n, ok := strings.CutSuffix(file, vggoModelExt); ok && n != "" {
		return n
	}
	return strings.TrimSuffix(file, modelExt)
}

// embeddedJob returns the facts job of an embedded model, nil if there is
// no such file. Embedded files are in memory and never change: they are
// hashed once, without waiting for a hashing slot.
func (s *modelStore) embeddedJob(file string) *factsJob {
	name := path.Join(embeddedModelDir, file)
	info, err := fs.Stat(s.webFS, name)
	if err != nil || !info.Mode().IsRegular() {
		return nil
	}
	return s.embedded.job(file, fileVersion{size: info.Size()}, func(ctx context.Context, v fileVersion) modelFacts {
		content, size, closer, err := openContent(s.webFS, name)
		if err != nil {
			return modelFacts{err: err}
		}
		defer closer.Close()
		return computeFacts(ctx, content, size, file, name, s.log)
	})
}

// diskJob returns the facts job of version v of a directory file.
func (s *modelStore) diskJob(file string, v fileVersion) *factsJob {
	return s.onDisk.job(file, v, func(ctx context.Context, v fileVersion) modelFacts {
		select {
		case s.hashSlots <- struct{}{}:
			defer func() { <-s.hashSlots }()
		case <-ctx.Done():
			return modelFacts{err: ctx.Err(), transient: true}
		}
		// The job reads its own handle: the request that started it may
		// end first.
		f, opened, err := openDiskModel(s.root, file)
		if err != nil {
			return modelFacts{err: err, transient: true}
		}
		defer f.Close()
		if opened != v {
			return modelFacts{err: errModelChanged, transient: true}
		}
		logName := filepath.Join(s.dir, file)
		start := time.Now()
		facts := computeFacts(ctx, &versionedFile{f: f, version: v}, v.size, file, logName, s.log)
		if !facts.transient {
			s.log.Info("model file checked", "file", logName, "bytes", v.size, "duration", time.Since(start))
		}
		return facts
	})
}

// diskIndex returns the facts of the directory's files that are ready,
// starting jobs for new versions, and the names of all the files it
// serves, ready or not. Files that are not regular or have odd names are
// left out, with the reason logged once.
func (s *modelStore) diskIndex() (ready map[string]modelFacts, served map[string]bool) {
	ready, served = map[string]modelFacts{}, map[string]bool{}
	if s.root == nil {
		return ready, served
	}
	entries, err := readDirNames(s.root)
	if err != nil {
		s.log.Warn("cannot read models directory", "dir", s.dir, "error", err)
	}
	skipped := map[string]string{}
	for _, name := range entries {
		if !isModelFileName(name) {
			continue
		}
		if reason := oddNameReason(name); reason != "" {
			skipped[name] = reason
			continue
		}
		info, err := s.root.Lstat(name)
		if err != nil {
			continue // removed since ReadDir
		}
		if !info.Mode().IsRegular() {
			skipped[name] = errNotRegular.Error()
			continue
		}
		served[name] = true
		if facts, ok := s.diskJob(name, versionOf(info)).ready(); ok && !facts.transient {
			ready[name] = facts
		}
	}
	s.onDisk.keepOnly(served)
	s.logSkipped(skipped)
	return ready, served
}

// readDirNames lists the names in root's top directory.
func readDirNames(root *os.Root) ([]string, error) {
	d, err := root.Open(".")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Readdirnames(-1)
}

// logSkipped logs why each directory file in skipped (name → reason) is
// not served, once for as long as it stays skipped for that reason.
func (s *modelStore) logSkipped(skipped map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, reason := range skipped {
		if s.skipped[name] != reason {
			s.log.Warn("model file not served", "file", filepath.Join(s.dir, name), "reason", reason)
		}
	}
	s.skipped = skipped
}

// embeddedFiles lists the model files in the embedded tree.
func (s *modelStore) embeddedFiles() []string {
	entries, err := fs.ReadDir(s.webFS, embeddedModelDir)
	if err != nil {
		return nil
	}
	var files []string
	for _, e := range entries {
		if e.Type().IsRegular() && isModelFileName(e.Name()) {
			files = append(files, e.Name())
		}
	}
	return files
}

// index builds the /models index: embedded models first, then the
// directory's, each group sorted by file name. A directory file with the
// same name as an embedded one replaces it (so an operator can update the
// default without rebuilding), even while it is being checked: the index
// never lists a hash that a download would contradict. Directory files
// still being checked are left out; embedded ones are waited for (they are
// in memory, and fast).
func (s *modelStore) index(ctx context.Context) modelIndex {
	disk, served := s.diskIndex()
	idx := modelIndex{Models: []modelEntry{}}
	for _, file := range s.embeddedFiles() {
		if served[file] {
			continue
		}
		job := s.embeddedJob(file)
		if job == nil {
			continue
		}
		if facts, ok := job.wait(ctx); ok && !facts.transient {
			e := entryOf(file, facts)
			e.Embedded = true
			idx.Models = append(idx.Models, e)
		}
	}
	names := make([]string, 0, len(disk))
	for name := range disk {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		idx.Models = append(idx.Models, entryOf(name, disk[name]))
	}
	return idx
}

func entryOf(file string, f modelFacts) modelEntry {
	e := modelEntry{
		Name: modelName(file),
		File: file,
		// Escaped (RFC 3986): names may hold '#', '?', '%', spaces.
		URL:    routeModelsDir + url.PathEscape(file),
		Bytes:  f.version.size,
		SHA256: f.sha256,
	}
	if f.err != nil {
		e.Error = f.err.Error()
		return e
	}
	m := f.meta
	e.Classes, e.InputSize, e.Preprocess, e.Head, e.Arch, e.WidthDiv = m.Classes, m.InputSize, m.Preprocess, m.Head, m.Arch, m.WidthDiv
	return e
}

// largestModel returns the size of the biggest model the store serves now,
// which sets the default drain time at shutdown.
func (s *modelStore) largestModel() int64 {
	var largest int64
	for _, file := range s.embeddedFiles() {
		if info, err := fs.Stat(s.webFS, path.Join(embeddedModelDir, file)); err == nil {
			largest = max(largest, info.Size())
		}
	}
	if s.root != nil {
		names, _ := readDirNames(s.root)
		for _, name := range names {
			if info, err := s.root.Lstat(name); err == nil && isModelFileName(name) && info.Mode().IsRegular() {
				largest = max(largest, info.Size())
			}
		}
	}
	return largest
}

// serveIndex answers /models with the JSON index. It revalidates like any
// other resource: no-cache, with an ETag over the body.
func (s *modelStore) serveIndex(w http.ResponseWriter, r *http.Request) {
	body, err := json.MarshalIndent(s.index(r.Context()), "", "  ")
	if err != nil {
		http.Error(w, "cannot build the index", http.StatusInternalServerError)
		return
	}
	body = append(body, '\n')
	sum := sha256.Sum256(body)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", cacheRevalidate)
	h.Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	serveContent(w, r, "", time.Time{}, bytes.NewReader(body))
}
