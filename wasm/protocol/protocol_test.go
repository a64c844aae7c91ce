package protocol

import (
	"strings"
	"testing"
)

const sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseIndex(t *testing.T) {
	cases := []struct {
		name         string
		json         string
		usable       []string // names, in order
		broken       int
		errSubstring string
	}{
		{"object", `{"models":[{"name":"b","file":"b.vggo.safetensors","sha256":"` + sha + `","bytes":10},{"name":"a","file":"a.vggo.safetensors","sha256":"` + strings.ToUpper(sha) + `"}]}`, []string{"a", "b"}, 0, ""},
		{"array", `[{"file":"x.vggo.safetensors","sha256":"` + sha + `"}]`, []string{"x.vggo.safetensors"}, 0, ""},
		{"server error entry", `{"models":[{"name":"bad","file":"bad.safetensors","error":"truncated"}]}`, nil, 1, ""},
		{"missing hash", `[{"name":"nohash","file":"n.safetensors"}]`, nil, 1, ""},
		{"short hash", `[{"name":"s","file":"s.safetensors","sha256":"abc"}]`, nil, 1, ""},
		{"not json", `<html>`, nil, 0, "models index"},
		{"bad types", `{"models":[{"name":3}]}`, nil, 0, "models index"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			usable, broken, err := ParseIndex([]byte(c.json))
			if c.errSubstring != "" {
				if err == nil || !strings.Contains(err.Error(), c.errSubstring) {
					t.Fatalf("err = %v, want %q", err, c.errSubstring)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, m := range usable {
				names = append(names, m.Name)
				if m.SHA256 != sha {
					t.Errorf("%s: sha %q not normalised", m.Name, m.SHA256)
				}
			}
			if strings.Join(names, ",") != strings.Join(c.usable, ",") || len(broken) != c.broken {
				t.Fatalf("usable %v broken %d, want %v and %d", names, len(broken), c.usable, c.broken)
			}
			for _, b := range broken {
				if b.Error == "" {
					t.Errorf("broken entry %+v has no reason", b)
				}
			}
		})
	}
}

func TestHref(t *testing.T) {
	if got := (ModelEntry{File: "m.safetensors"}).Href(); got != "/models/m.safetensors" {
		t.Errorf("Href = %q", got)
	}
	if got := (ModelEntry{File: "m", URL: "/x/m"}).Href(); got != "/x/m" {
		t.Errorf("Href = %q", got)
	}
}

func TestMedian(t *testing.T) {
	cases := []struct {
		in   []float64
		want float64
	}{
		{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, c := range cases {
		if got := Median(c.in); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestProgressPercentAndHumanBytes(t *testing.T) {
	if p := (Progress{Loaded: 50, Total: 200}).Percent(); p != 25 {
		t.Errorf("Percent = %v", p)
	}
	if p := (Progress{Loaded: 50}).Percent(); p != 0 {
		t.Errorf("Percent with unknown total = %v", p)
	}
	for n, want := range map[int64]string{512: "512 B", 1536: "1.5 KB", 3 << 20: "3.0 MB", 5 << 30: "5.0 GB"} {
		if got := HumanBytes(n); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// FuzzParseIndex: any input either fails cleanly or yields usable entries
// that all have a valid SHA-256, a download location and a name; broken
// entries always carry a reason.
func FuzzParseIndex(f *testing.F) {
	f.Add([]byte(`{"models":[{"name":"a","file":"a.vggo.safetensors","sha256":"` + sha + `","bytes":10,"classes":["x"],"inputSize":32}]}`))
	f.Add([]byte(`[{"file":"b","sha256":"` + sha + `"},{"name":"bad","error":"truncated"}]`))
	f.Add([]byte(`{"models":null}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		usable, broken, err := ParseIndex(data)
		if err != nil {
			if usable != nil || broken != nil {
				t.Fatal("entries returned with an error")
			}
			return
		}
		for _, e := range usable {
			if !IsSHA256Hex(e.SHA256) || e.Href() == "" || e.Name == "" {
				t.Fatalf("unusable entry accepted: %+v", e)
			}
		}
		for _, e := range broken {
			if e.Error == "" {
				t.Fatalf("broken entry without a reason: %+v", e)
			}
		}
	})
}

// TestShardRunControlRoundTrip: the words a leader publishes for a pass
// give a parked follower the same ShardRun back, every field, and none
// of them lands on the barrier's words or outside the buffer.
func TestShardRunControlRoundTrip(t *testing.T) {
	for _, run := range []ShardRun{
		{Pass: 7, Batch: 2, Size: 224, WidthDiv: 1, MaxFull: 3211264, Exchanges: 13, Bench: false, DataEpoch: 3},
		{Pass: 1, Batch: 32, Size: 32, WidthDiv: 16, MaxFull: 131072, Exchanges: 10, Bench: true, DataEpoch: 1},
	} {
		buf := make([]int, ControlBytes/4)
		for _, w := range run.ControlWords() {
			if w[0] <= ControlPass || w[0] >= len(buf) {
				t.Fatalf("word %d: outside the pass's words %d..%d", w[0], ControlPass+1, len(buf)-1)
			}
			buf[w[0]] = w[1]
		}
		if got := ShardRunFromControl(run.Pass, func(i int) int { return buf[i] }); got != run {
			t.Errorf("round trip: %+v, want %+v", got, run)
		}
	}
}

// TestSplitWords: what pool lines and bench rows say about how a pool
// splits its leading blocks.
func TestSplitWords(t *testing.T) {
	for _, tc := range []struct {
		splits []string
		want   string
	}{
		{nil, ""},
		{[]string{"channels", "channels"}, ""},
		{[]string{"rows"}, "block 1 split by rows"},
		{[]string{"images", "images"}, "blocks 1-2 split by images"},
		{[]string{"rows", "channels"}, "block 1 split by rows"},
		{[]string{"rows", "rows", "rows", "rows", "rows"}, "blocks 1-5 split by rows"},
	} {
		if got := SplitWords(tc.splits); got != tc.want {
			t.Errorf("SplitWords(%q) = %q, want %q", tc.splits, got, tc.want)
		}
	}
}
