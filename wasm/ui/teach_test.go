package ui

import (
	"strings"
	"testing"
)

// TestTeachPrerenders: the teach page renders on the server with its
// controls, and the classify page links to it.
func TestTeachPrerenders(t *testing.T) {
	Routes()
	h := Handler()
	code, body, _ := get(t, h, TeachPath)
	if code != 200 {
		t.Fatalf("%s: status %d", TeachPath, code)
	}
	for _, w := range []string{`id="add-class"`, `id="train-button"`, `id="stop-button"`, `id="import-input"`, `for="import-input"`, `id="teach-base-select"`, `id="teach-epochs"`, `id="teach-tune-conv"`, `aria-current="page"`} {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %s", TeachPath, w)
		}
	}
	if _, body, _ := get(t, h, ClassifyPath); !strings.Contains(body, `href="`+TeachPath+`"`) {
		t.Errorf("the classify page does not link to %s", TeachPath)
	}
}

// TestTeachProblems: every case that stops training is named.
func TestTeachProblems(t *testing.T) {
	img := func(n int) []*teachImage {
		out := make([]*teachImage, n)
		for i := range out {
			out[i] = &teachImage{ID: string(rune('a' + i))}
		}
		return out
	}
	cases := []struct {
		name    string
		classes []*teachClass
		ready   bool
		want    string
	}{
		{"single class", []*teachClass{{Name: "cat", Images: img(3)}}, true, "at least two classes"},
		{"empty class", []*teachClass{{Name: "cat", Images: img(3)}, {Name: "dog"}}, true, `"dog" has no images`},
		{"one image", []*teachClass{{Name: "cat", Images: img(3)}, {Name: "dog", Images: img(1)}}, true, `"dog" has only one image`},
		{"duplicate names", []*teachClass{{Name: "Cat", Images: img(3)}, {Name: " cat", Images: img(3)}}, true, "Two classes are named"},
		{"no name", []*teachClass{{Name: " ", Images: img(3)}, {Name: "dog", Images: img(3)}}, true, "has no name"},
		{"failed images", []*teachClass{{Name: "cat", Images: []*teachImage{{Err: "x"}, {Err: "y"}}}, {Name: "dog", Images: img(2)}}, true, `"cat" has no images`},
		{"no base", []*teachClass{{Name: "cat", Images: img(3)}, {Name: "dog", Images: img(3)}}, false, "base model is not ready"},
	}
	for _, c := range cases {
		tc := &Teach{classes: c.classes}
		if c.ready {
			tc.base.state = modelReady
		}
		got := strings.Join(tc.problems(), " | ")
		if !strings.Contains(got, c.want) {
			t.Errorf("%s: problems %q, want %q", c.name, got, c.want)
		}
	}
	ok := &Teach{classes: []*teachClass{{Name: "cat", Images: img(2)}, {Name: "dog", Images: img(2)}}}
	ok.base.state = modelReady
	if p := ok.problems(); len(p) != 0 {
		t.Errorf("two named classes of 2 images: problems %q", p)
	}
}

// TestTeachNotes: a very large class and very uneven classes are named in
// notes that do not stop training; ordinary classes get none.
func TestTeachNotes(t *testing.T) {
	img := func(n int) []*teachImage {
		out := make([]*teachImage, n)
		for i := range out {
			out[i] = &teachImage{}
		}
		return out
	}
	cases := []struct {
		name    string
		classes []*teachClass
		want    []string
	}{
		{"1,000 images", []*teachClass{{Name: "big", Images: img(1000)}, {Name: "small", Images: img(900)}}, []string{`"big" has 1000 images: all are kept`}},
		{"uneven", []*teachClass{{Name: "big", Images: img(80)}, {Name: "small", Images: img(20)}}, []string{`"big" has 80 images, "small" only 20: the model will lean towards "big"`}},
		{"both", []*teachClass{{Name: "big", Images: img(1000)}, {Name: "small", Images: img(20)}}, []string{`"big" has 1000 images: all are kept`, `"small" only 20`}},
		{"even", []*teachClass{{Name: "a", Images: img(30)}, {Name: "b", Images: img(20)}}, nil},
		{"empty class", []*teachClass{{Name: "a", Images: img(30)}, {Name: "b"}}, nil}, // problems() names it
	}
	for _, c := range cases {
		tc := &Teach{classes: c.classes}
		got := strings.Join(tc.notes(), " | ")
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: notes %q, want %q", c.name, got, w)
			}
		}
		if len(c.want) == 0 && got != "" {
			t.Errorf("%s: notes %q, want none", c.name, got)
		}
		if p := tc.problems(); len(c.want) > 0 && strings.Contains(strings.Join(p, " "), "images") {
			t.Errorf("%s: a note became a problem: %q", c.name, p)
		}
	}
}
