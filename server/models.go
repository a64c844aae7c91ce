package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
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

// fileVersion identifies one version of a file on disk cheaply, from one
// stat: a file whose inode, size and modification time are unchanged is
// assumed unchanged. Model files are replaced atomically (by rename), which
// always gives a new inode; the mtime catches in-place rewrites.
type fileVersion struct {
	size     int64
	modTime  time.Time
	dev, ino uint64
}

// versionOf returns the version of a file from its stat.
func versionOf(info os.FileInfo) fileVersion {
	dev, ino := fileIdentity(info)
	return fileVersion{size: info.Size(), modTime: info.ModTime(), dev: dev, ino: ino}
}

// modelFacts are the computed facts of one file version: its hash and
// metadata (or why the metadata cannot be read).
type modelFacts struct {
	version fileVersion
	sha256  string
	meta    modelMeta
	err     error
}

// modelStore knows the models: the embedded default(s) from the web tree and
// the files of an optional directory. The directory is rescanned on every
// index request (one ReadDir and one stat per file); a file is hashed and
// its metadata read only when its version changes. There is no background
// goroutine and no file-system notification to go wrong.
type modelStore struct {
	webFS     fs.FS     // embedded tree; models under embeddedModelDir
	embedTime time.Time // Last-Modified of embedded models; zero: none
	dir       string    // extra model directory, "" for none
	log       *slog.Logger

	mu       sync.Mutex
	embedded map[string]modelFacts // file name → facts (never change)
	onDisk   map[string]modelFacts // file name → facts of the last seen version
}

func newModelStore(webFS fs.FS, embedTime time.Time, dir string, log *slog.Logger) *modelStore {
	return &modelStore{
		webFS:     webFS,
		embedTime: embedTime,
		dir:       dir,
		log:       log,
		embedded:  make(map[string]modelFacts),
		onDisk:    make(map[string]modelFacts),
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

// hashReader returns the lower-case hex SHA-256 of everything r yields.
func hashReader(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// computeFacts hashes a model file and reads its metadata. A file that is
// not a readable model still gets a hash (it can be downloaded and
// inspected) and its error is logged once per version.
func (s *modelStore) computeFacts(src modelSource, content io.ReaderAt, v fileVersion) modelFacts {
	facts := modelFacts{version: v}
	sum, err := hashReader(io.NewSectionReader(content, 0, v.size))
	if err != nil {
		facts.err = err
		s.log.Warn("model file unreadable", "file", src.name, "error", err)
		return facts
	}
	facts.sha256 = sum
	facts.meta, facts.err = readModelMeta(src)
	if facts.err != nil {
		s.log.Warn("model file listed with an error", "file", src.name, "error", facts.err)
		if src.path != "" {
			// Clients see the file name, not where the server keeps it.
			facts.err = errors.New(strings.ReplaceAll(facts.err.Error(), src.path, filepath.Base(src.path)))
		}
	}
	return facts
}

// embeddedFacts returns the facts of an embedded model, computed once.
func (s *modelStore) embeddedFacts(file string) (modelFacts, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.embedded[file]; ok {
		return f, true
	}
	name := path.Join(embeddedModelDir, file)
	content, size, closer, err := openContent(s.webFS, name)
	if err != nil {
		return modelFacts{}, false
	}
	defer closer.Close()
	v := fileVersion{size: size}
	f := s.computeFacts(modelSource{name: name, r: content, size: size}, content, v)
	s.embedded[file] = f
	return f, true
}

// diskFacts returns the facts of the directory file whose open handle is
// f, computing them when this version has not been seen. Hashing reads the
// open handle, so the ETag always matches the bytes served from it even if
// the file is replaced meanwhile.
func (s *modelStore) diskFacts(file string, f *os.File, v fileVersion) modelFacts {
	s.mu.Lock()
	defer s.mu.Unlock()
	if facts, ok := s.onDisk[file]; ok && facts.version == v {
		return facts
	}
	p := filepath.Join(s.dir, file)
	facts := s.computeFacts(modelSource{name: p, path: p, r: f, size: v.size}, f, v)
	s.onDisk[file] = facts
	return facts
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
// default without rebuilding). Removed files disappear from the cache.
func (s *modelStore) index() modelIndex {
	disk := map[string]modelFacts{}
	if s.dir != "" {
		entries, err := os.ReadDir(s.dir)
		if err != nil {
			s.log.Warn("cannot read models directory", "dir", s.dir, "error", err)
		}
		seen := map[string]bool{}
		for _, e := range entries {
			if !isModelFileName(e.Name()) {
				continue
			}
			f, err := os.Open(filepath.Join(s.dir, e.Name()))
			if err != nil {
				continue // removed since ReadDir, or unreadable: not listed
			}
			info, err := f.Stat()
			if err == nil && info.Mode().IsRegular() {
				seen[e.Name()] = true
				disk[e.Name()] = s.diskFacts(e.Name(), f, versionOf(info))
			}
			f.Close()
		}
		s.mu.Lock()
		for name := range s.onDisk {
			if !seen[name] {
				delete(s.onDisk, name)
			}
		}
		s.mu.Unlock()
	}

	idx := modelIndex{Models: []modelEntry{}}
	for _, file := range s.embeddedFiles() {
		if _, replaced := disk[file]; replaced {
			continue
		}
		if facts, ok := s.embeddedFacts(file); ok {
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
		Name:   modelName(file),
		File:   file,
		URL:    "/models/" + file,
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

// serveIndex answers /models with the JSON index. It revalidates like any
// other resource: no-cache, with an ETag over the body.
func (s *modelStore) serveIndex(w http.ResponseWriter, r *http.Request) {
	body, err := json.MarshalIndent(s.index(), "", "  ")
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
	http.ServeContent(w, r, "", time.Time{}, strings.NewReader(string(body)))
}

// serveFile answers /models/<file> with http.ServeContent semantics: the
// ETag is the file's SHA-256 (If-None-Match → 304), Last-Modified is the
// file's mtime (directory files) or the binary's (embedded ones), and Range requests are honoured (single,
// multiple, unsatisfiable → 416). Files are looked up in the directory
// first, then in the embedded tree.
func (s *modelStore) serveFile(w http.ResponseWriter, r *http.Request, file string) {
	if !isModelFileName(file) {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	setModelHeaders := func(sum string) {
		h.Set("Content-Type", contentTypeOf(file))
		h.Set("Cache-Control", cacheRevalidate)
		h.Set("ETag", `"`+sum+`"`)
		// Opened directly in a tab, the file is saved, never displayed.
		h.Set("Content-Disposition", `attachment; filename="`+file+`"`)
	}

	if s.dir != "" {
		f, err := os.Open(filepath.Join(s.dir, file))
		if err == nil {
			defer f.Close()
			info, err := f.Stat()
			if err == nil && info.Mode().IsRegular() {
				facts := s.diskFacts(file, f, versionOf(info))
				if facts.sha256 == "" {
					http.Error(w, "cannot read model file", http.StatusInternalServerError)
					return
				}
				setModelHeaders(facts.sha256)
				http.ServeContent(w, r, file, info.ModTime(), f)
				return
			}
		}
	}

	facts, ok := s.embeddedFacts(file)
	if !ok || facts.sha256 == "" {
		http.NotFound(w, r)
		return
	}
	content, _, closer, err := openContent(s.webFS, path.Join(embeddedModelDir, file))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer closer.Close()
	setModelHeaders(facts.sha256)
	http.ServeContent(w, r, file, s.embedTime, content)
}
