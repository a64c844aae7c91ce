package cache

import (
	"math"
	"os"
	"testing"
)

func TestPutGetCountsAndFloat16(t *testing.T) {
	for _, budget := range []int64{0, 1 << 20} {
		c, err := Open(t.TempDir(), budget)
		if err != nil {
			t.Fatal(err)
		}
		k := Key("weights", "image", "caffe")
		if k == Key("weights", "imag", "ecaffe") {
			t.Fatal("key parts are not delimited")
		}
		if _, ok := c.Get(k); ok || c.Misses.Load() != 1 {
			t.Fatal("empty cache hit")
		}
		v := []float32{0, 1, -2.5, 3.14159, 65504, 1e-3}
		if err := c.Put(k, v); err != nil {
			t.Fatal(err)
		}
		// A fresh Cache on the same directory (a second run) finds it.
		c2, _ := Open(c.Dir, budget)
		for _, cc := range []*Cache{c, c2} {
			got, ok := cc.Get(k)
			if !ok || len(got) != len(v) {
				t.Fatalf("budget %d: get %v %v", budget, got, ok)
			}
			for i := range v {
				if math.Abs(float64(got[i]-v[i])) > 1e-3*math.Max(1, math.Abs(float64(v[i]))) {
					t.Errorf("value %d: %g, want %g within float16", i, got[i], v[i])
				}
			}
		}
		if c.Hits.Load() != 1 || c2.Hits.Load() != 1 {
			t.Fatalf("hits %d %d", c.Hits.Load(), c2.Hits.Load())
		}
		// A damaged file is a miss and is removed.
		os.WriteFile(c.path(k), []byte("VGGOF16\x00garbage"), 0o644)
		c3, _ := Open(c.Dir, 0)
		if _, ok := c3.Get(k); ok {
			t.Fatal("damaged entry returned")
		}
		if c3.Has(k) {
			t.Fatal("damaged entry kept")
		}
	}
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add([]byte(magic + "\x01\x00\x00\x00\x00\x00\x00\x00\x00\x3c"))
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decode(b)
		if err == nil && 2*len(v)+len(magic)+8 != len(b) {
			t.Fatalf("%d values from %d bytes", len(v), len(b))
		}
	})
}
