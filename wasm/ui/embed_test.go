package ui

import (
	"net/url"
	"strings"
	"testing"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"vggo/wasm/protocol"
)

func TestParseEmbedParams(t *testing.T) {
	for _, c := range []struct {
		query string
		want  EmbedParams
	}{
		{"", EmbedParams{Top: EmbedDefaultTop, Theme: "auto"}},
		{"model=fashion16&top=5&theme=dark", EmbedParams{Model: "fashion16", Top: 5, Theme: "dark"}},
		{"model=+x+&top=0&theme=purple", EmbedParams{Model: "x", Top: EmbedDefaultTop, Theme: "auto"}},
		{"top=999&theme=light", EmbedParams{Top: EmbedMaxTop, Theme: "light"}},
		{"top=-2", EmbedParams{Top: EmbedDefaultTop, Theme: "auto"}},
		{"top=abc", EmbedParams{Top: EmbedDefaultTop, Theme: "auto"}},
	} {
		q, _ := url.ParseQuery(c.query)
		if got := ParseEmbedParams(q); got != c.want {
			t.Errorf("ParseEmbedParams(%q) = %+v, want %+v", c.query, got, c.want)
		}
	}
}

func TestExpectedHostOrigin(t *testing.T) {
	for _, c := range []struct{ ancestor, referrer, want string }{
		{"https://blog.example", "https://other.example/x", "https://blog.example"},
		{"", "https://blog.example:8443/post/1?q#f", "https://blog.example:8443"},
		{"null", "http://localhost:9000/", "http://localhost:9000"},
		{"", "", ""},
		{"", "not a url", ""},
	} {
		if got := ExpectedHostOrigin(c.ancestor, c.referrer); got != c.want {
			t.Errorf("ExpectedHostOrigin(%q, %q) = %q, want %q", c.ancestor, c.referrer, got, c.want)
		}
	}
}

// TestAcceptHostMessage walks the frame's origin rules: only the parent
// window, only an init pins, the expected origin wins when known, and once
// pinned only that origin is heard.
func TestAcceptHostMessage(t *testing.T) {
	const host, evil = "https://blog.example", "https://evil.example"
	for _, c := range []struct {
		name             string
		kind, origin     string
		fromParent       bool
		pinned, expected string
		wantPinned       string
		wantOK           bool
	}{
		{"init pins the expected origin", EmbedInit, host, true, "", host, host, true},
		{"init pins when nothing is known", EmbedInit, host, true, "", "", host, true},
		{"init from an unexpected origin", EmbedInit, evil, true, "", host, "", false},
		{"init not from the parent", EmbedInit, host, false, "", host, "", false},
		{"classify before init", EmbedClassify, host, true, "", host, "", false},
		{"classify from the pinned origin", EmbedClassify, host, true, host, host, host, true},
		{"classify from another origin", EmbedClassify, evil, true, host, host, host, false},
		{"second init cannot re-pin", EmbedInit, evil, true, host, "", host, false},
		{"opaque origin", EmbedInit, "null", true, "", "", "", false},
		{"classify from another window of the pinned origin", EmbedClassify, host, false, host, host, host, false},
	} {
		p, ok := AcceptHostMessage(c.kind, c.origin, c.fromParent, c.pinned, c.expected)
		if p != c.wantPinned || ok != c.wantOK {
			t.Errorf("%s: got (%q, %v), want (%q, %v)", c.name, p, ok, c.wantPinned, c.wantOK)
		}
	}
}

// TestUnknownModelMessage: the widget's error for a wrong model attribute
// names the attribute's value and every model the server has.
func TestUnknownModelMessage(t *testing.T) {
	got := UnknownModelMessage("fashion", []protocol.ModelEntry{{Name: "fashion-mnist-vgg16"}, {Name: "food10"}})
	want := `no model named "fashion" on this server; its models are "fashion-mnist-vgg16", "food10"`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := UnknownModelMessage("x", nil); got != "the server lists no usable model" {
		t.Errorf("no models: %s", got)
	}
}

// TestThumbnailComesWithResult: the app's result card and the widget show
// the photo's thumbnail only once the result is there, never while the
// worker still decodes it (the page's own decode would compete) nor for a
// file that failed.
func TestThumbnailComesWithResult(t *testing.T) {
	for _, c := range []struct {
		name  string
		e     entry
		thumb bool
	}{
		{"pending", entry{Name: "a.jpg", ImageURL: "blob:a"}, false},
		{"error", entry{Name: "a.jpg", ImageURL: "blob:a", Err: "corrupt"}, false},
		{"done", entry{Name: "a.jpg", ImageURL: "blob:a", Result: &protocol.Result{}}, true},
	} {
		card := app.HTMLString(renderEntry(&c.e))
		embed := &Embed{last: &c.e, params: EmbedParams{Top: EmbedDefaultTop}}
		widget := app.HTMLString(embed.renderLast())
		for where, html := range map[string]string{"app": card, "widget": widget} {
			if got := strings.Contains(html, `src="blob:a"`); got != c.thumb {
				t.Errorf("%s, %s: thumbnail shown = %v, want %v:\n%s", where, c.name, got, c.thumb, html)
			}
		}
	}
}
