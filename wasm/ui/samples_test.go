package ui

import (
	"strings"
	"testing"
)

// TestSamplesPrerender checks the classify page offers every sample image as
// a labelled button, and that the sample table is well formed: unique files
// under SamplesDir, one per class at most.
func TestSamplesPrerender(t *testing.T) {
	Routes()
	code, body, _ := get(t, Handler(), "/")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	for _, w := range []string{`id="samples"`, `id="samples-heading"`, "Try a sample"} {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %s", w)
		}
	}
	if len(Samples) == 0 {
		t.Fatal("no sample images listed")
	}
	files, classes := map[string]bool{}, map[string]bool{}
	for _, s := range Samples {
		if files[s.File] || classes[s.Class] {
			t.Errorf("sample %+v repeats a file or class", s)
		}
		files[s.File], classes[s.Class] = true, true
		if !strings.HasSuffix(s.File, ".png") || strings.Contains(s.File, "/") {
			t.Errorf("sample file %q: want a plain .png name", s.File)
		}
		for _, w := range []string{`src="` + s.URL() + `"`, `alt="Test image: ` + s.Class + `"`, `data-sample="` + s.File + `"`} {
			if !strings.Contains(body, w) {
				t.Errorf("page lacks %s", w)
			}
		}
	}
}
