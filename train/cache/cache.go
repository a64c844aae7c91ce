// Package cache stores per-image activations at the freeze boundary on
// disk as float16, so the frozen prefix of VGG16 runs once per image (and
// augmentation draw) across epochs and across runs. An entry's key is a
// hash of everything that determines it: the weights, the image bytes, the
// preprocessing, the boundary layer and the augmentation draw (Key).
package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"vggo/model/safetensors"
)

// magic starts every cache entry file; a length follows, then float16 data.
const magic = "VGGOF16\x00"

var tmpSeq atomic.Int64

// Key hashes the parts into an entry key.
func Key(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Cache is a directory of entries plus an optional in-memory layer.
type Cache struct {
	Dir string
	// MemoryBudget bounds the bytes of float32 kept in memory (0: none);
	// entries beyond it are read from disk on every Get.
	MemoryBudget int64

	mu      sync.Mutex
	mem     map[string][]float32
	memUsed int64

	// Counters: Get calls served from memory or disk, and Get calls that
	// found nothing; Puts written.
	Hits, Misses, Puts atomic.Int64
}

// Open creates dir if needed.
func Open(dir string, memoryBudget int64) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("feature cache: %w", err)
	}
	return &Cache{Dir: dir, MemoryBudget: memoryBudget, mem: map[string][]float32{}}, nil
}

func (c *Cache) path(key string) string {
	return filepath.Join(c.Dir, key[:2], key+".f16")
}

// Has reports whether an entry exists (in memory or on disk) without
// counting a hit or miss.
func (c *Cache) Has(key string) bool {
	c.mu.Lock()
	_, ok := c.mem[key]
	c.mu.Unlock()
	if ok {
		return true
	}
	_, err := os.Stat(c.path(key))
	return err == nil
}

// Get returns the entry's values (float16 widened to float32; the slice
// must not be modified), counting a hit, or false and a miss. A damaged
// file counts as a miss and is removed.
func (c *Cache) Get(key string) ([]float32, bool) {
	c.mu.Lock()
	v, ok := c.mem[key]
	c.mu.Unlock()
	if ok {
		c.Hits.Add(1)
		return v, true
	}
	b, err := os.ReadFile(c.path(key))
	if err == nil {
		v, err = decode(b)
		if err != nil {
			os.Remove(c.path(key))
		}
	}
	if err != nil {
		c.Misses.Add(1)
		return nil, false
	}
	c.remember(key, v)
	c.Hits.Add(1)
	return v, true
}

func (c *Cache) remember(key string, v []float32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	size := int64(4 * len(v))
	if c.memUsed+size <= c.MemoryBudget {
		c.mem[key] = v
		c.memUsed += size
	}
}

// Put stores v under key (atomically; concurrent Puts of the same key are
// harmless).
func (c *Cache) Put(key string, v []float32) error {
	if err := os.MkdirAll(filepath.Dir(c.path(key)), 0o755); err != nil {
		return err
	}
	b := make([]byte, len(magic)+8+2*len(v))
	copy(b, magic)
	binary.LittleEndian.PutUint64(b[len(magic):], uint64(len(v)))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[len(magic)+8+2*i:], safetensors.Float32ToFloat16(x))
	}
	// Temp file + rename, without fsync: an entry lost or torn by a crash
	// fails decode's length check and is recomputed, so durability is not
	// worth an fsync per image.
	tmp := fmt.Sprintf("%s.tmp%d", c.path(key), tmpSeq.Add(1))
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("feature cache: %w", err)
	}
	if err := os.Rename(tmp, c.path(key)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("feature cache: %w", err)
	}
	c.Puts.Add(1)
	// Keep the rounded values, so memory and disk reads agree exactly.
	r, _ := decode(b)
	c.remember(key, r)
	return nil
}

func decode(b []byte) ([]float32, error) {
	if len(b) < len(magic)+8 || !strings.HasPrefix(string(b[:len(magic)]), magic) {
		return nil, fmt.Errorf("not a cache entry")
	}
	n := binary.LittleEndian.Uint64(b[len(magic):])
	if n > uint64(len(b)) || uint64(len(b)-len(magic)-8) != 2*n {
		return nil, fmt.Errorf("cache entry truncated")
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = safetensors.Float16ToFloat32(binary.LittleEndian.Uint16(b[len(magic)+8+2*i:]))
	}
	return v, nil
}
