package main

import (
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
)

// Model downloads: /models/<file>.

// setModelHeaders sets the headers of a model file download.
func setModelHeaders(h http.Header, file, sum string) {
	h.Set("Content-Type", contentTypeOf(file))
	h.Set("Cache-Control", cacheRevalidate)
	h.Set("ETag", `"`+sum+`"`)
	// Opened directly in a tab, the file is saved, never displayed. The
	// name is quoted, or given as filename*=utf-8''… (RFC 6266, 8187).
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": file})
	if disposition == "" {
		disposition = "attachment"
	}
	h.Set("Content-Disposition", disposition)
}

// serveFile answers /models/<file> with http.ServeContent semantics: the
// ETag is the file's SHA-256 (If-None-Match → 304), Last-Modified is the
// file's mtime (directory files) or the binary's (embedded ones), and Range
// requests are honoured (single, multiple, unsatisfiable → 416). Files are
// looked up in the directory first, then in the embedded tree.
func (s *modelStore) serveFile(w http.ResponseWriter, r *http.Request, file string) {
	if !isModelFileName(file) || oddNameReason(file) != "" {
		http.NotFound(w, r)
		return
	}
	if s.root != nil {
		if f, v, err := openDiskModel(s.root, file); err == nil {
			defer f.Close()
			s.serveDiskFile(w, r, file, f, v)
			return
		}
	}

	job := s.embeddedJob(file)
	if job == nil {
		http.NotFound(w, r)
		return
	}
	facts, ok := job.wait(r.Context())
	if !ok {
		return // the client has gone
	}
	content, _, closer, err := openContent(s.webFS, path.Join(embeddedModelDir, file))
	if err != nil || facts.sha256 == "" {
		http.Error(w, "cannot read model file", http.StatusInternalServerError)
		return
	}
	defer closer.Close()
	setModelHeaders(w.Header(), file, facts.sha256)
	serveContent(w, r, file, s.embedTime, content)
}

// serveDiskFile sends version v of a directory file from its open handle
// f, once that version is hashed. If the file is rewritten in place during
// the transfer, the transfer is cut (the client sees a short body, never
// one that contradicts the ETag) and the change is logged.
func (s *modelStore) serveDiskFile(w http.ResponseWriter, r *http.Request, file string, f *os.File, v fileVersion) {
	facts, ok := s.diskJob(file, v).wait(r.Context())
	switch {
	case !ok:
		return // the client has gone
	case facts.transient:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "model file is changing, try again", http.StatusServiceUnavailable)
		return
	case facts.sha256 == "":
		http.Error(w, "cannot read model file", http.StatusInternalServerError)
		return
	}
	setModelHeaders(w.Header(), file, facts.sha256)
	content := &versionedFile{f: f, version: v}
	serveContent(w, r, file, v.modTime, content)
	if content.changed {
		s.log.Warn("model file changed while being sent; transfer cut. Replace model files by rename, never in place",
			"file", filepath.Join(s.dir, file))
	}
}
