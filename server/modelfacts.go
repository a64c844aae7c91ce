package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

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
	// transient is set when the facts could not be computed for a
	// reason that says nothing about the file (it changed meanwhile, the
	// server is stopping): such facts are never listed or cached.
	transient bool
}

// errModelChanged is the error of a read that found its model file no
// longer the version it started on: someone rewrote it in place.
var errModelChanged = errors.New("model file changed while being read; replace model files by rename, never in place")

// factsJob computes the facts of one file version once; facts is valid
// after done is closed.
type factsJob struct {
	version fileVersion
	done    chan struct{}
	facts   modelFacts
}

// ready returns the facts if they are computed, without waiting.
func (j *factsJob) ready() (modelFacts, bool) {
	select {
	case <-j.done:
		return j.facts, true
	default:
		return modelFacts{}, false
	}
}

// wait returns the facts once computed; ok is false if ctx ends first.
func (j *factsJob) wait(ctx context.Context) (modelFacts, bool) {
	select {
	case <-j.done:
		return j.facts, true
	case <-ctx.Done():
		return modelFacts{}, false
	}
}

// factsCache holds one job per file name: the facts of the last version
// seen. A new version starts a background job; nothing that computes facts
// runs under the cache's lock, so a big file being hashed never delays
// requests for other files, and each version is hashed once.
type factsCache struct {
	ctx    context.Context // ends when the server stops
	cancel context.CancelFunc

	mu   sync.Mutex
	jobs map[string]*factsJob

	computed atomic.Int64 // jobs finished; tests check that a version is hashed once
	running  sync.WaitGroup
}

func newFactsCache() *factsCache {
	ctx, cancel := context.WithCancel(context.Background())
	return &factsCache{ctx: ctx, cancel: cancel, jobs: make(map[string]*factsJob)}
}

// job returns the job for version v of file name, starting compute in the
// background when that version has no job yet.
func (c *factsCache) job(name string, v fileVersion, compute func(ctx context.Context, v fileVersion) modelFacts) *factsJob {
	c.mu.Lock()
	defer c.mu.Unlock()
	if j, ok := c.jobs[name]; ok && j.version == v {
		return j
	}
	j := &factsJob{version: v, done: make(chan struct{})}
	c.jobs[name] = j
	c.running.Add(1)
	go func() {
		defer c.running.Done()
		j.facts = compute(c.ctx, v)
		j.facts.version = v
		c.computed.Add(1)
		if j.facts.transient {
			c.mu.Lock()
			if c.jobs[name] == j {
				delete(c.jobs, name) // the next request tries again
			}
			c.mu.Unlock()
		}
		close(j.done)
	}()
	return j
}

// keepOnly forgets the jobs of files not in present (removed files).
func (c *factsCache) keepOnly(present map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name := range c.jobs {
		if !present[name] {
			delete(c.jobs, name)
		}
	}
}

// close stops the jobs in progress and waits for them to return.
func (c *factsCache) close() {
	c.cancel()
	c.running.Wait()
}

// settle waits until no job is running (for tests).
func (c *factsCache) settle() { c.running.Wait() }

// computeFacts reads the metadata of one model file version and hashes
// it, once: the hash model's reader computed, if it did, is carried
// instead of hashing again. name is the file name shown to clients,
// logName where the server keeps it. A file that is not a readable model
// still gets a hash (it can be downloaded and inspected) and its error is
// logged once per version.
func computeFacts(ctx context.Context, content io.ReaderAt, size int64, name, logName string, log *slog.Logger) modelFacts {
	var facts modelFacts
	var sum string
	facts.meta, sum, facts.err = readModelMeta(content, size, name)
	if errors.Is(facts.err, errModelChanged) {
		return modelFacts{err: facts.err, transient: true}
	}
	if sum == "" {
		var err error
		if sum, err = hashContent(ctx, content, size); err != nil {
			transient := errors.Is(err, errModelChanged) || ctx.Err() != nil
			if !transient {
				log.Warn("model file unreadable", "file", logName, "error", err)
			}
			return modelFacts{err: err, transient: transient}
		}
	}
	facts.sha256 = sum
	if facts.err != nil {
		log.Warn("model file listed with an error", "file", logName, "error", facts.err)
	}
	return facts
}

// hashChunk is how much hashContent reads between checks for
// cancellation.
const hashChunk = 1 << 20

// hashContent returns the lower-case hex SHA-256 of the first size bytes
// of r. It reads exactly that much (a file that grew is not read further)
// and stops early when ctx ends.
func hashContent(ctx context.Context, r io.ReaderAt, size int64) (string, error) {
	h := sha256.New()
	buf := make([]byte, min(size, hashChunk))
	for off := int64(0); off < size; {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := r.ReadAt(buf[:min(size-off, int64(len(buf)))], off)
		h.Write(buf[:n])
		off += int64(n)
		if err == io.EOF && off < size {
			err = fmt.Errorf("file shorter than its %d bytes: %w", size, io.ErrUnexpectedEOF)
		}
		if err != nil && err != io.EOF {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
