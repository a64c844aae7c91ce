package e2e

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"vggo/model"
	"vggo/wasm/inference"
	"vggo/wasm/ui"
)

// noisePNG is a 64x64 PNG of uniform grey noise, which the default model
// flags as unlike its training images.
func noisePNG(t testing.TB) []byte {
	t.Helper()
	noise := image.NewGray(image.Rect(0, 0, 64, 64))
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rng.IntN(256))
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, noise); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The default model carries out-of-distribution statistics: a noise image
// gets the note instead of an answer, a Fashion-MNIST test image does not,
// and each card's verdict is the one the native engine gives for the file.
func TestOODNote(t *testing.T) {
	noisePath := filepath.Join(t.TempDir(), "noise.png")
	if err := os.WriteFile(noisePath, noisePNG(t), 0o644); err != nil {
		t.Fatal(err)
	}
	fixture.images["noise.png"] = noisePath

	// The native verdicts, from the same model file the server embeds.
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	modelBytes, err := os.ReadFile(filepath.Join(root, "web", "models", "fashion-mnist-vgg16.vggo.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	var engine inference.Engine
	if _, err := engine.Load(modelBytes, "default model", model.ShardOptions{}); err != nil {
		t.Fatal(err)
	}
	native := map[string]bool{}
	for _, name := range []string{"noise.png", "fashion-0.png"} {
		data, err := os.ReadFile(fixture.images[name])
		if err != nil {
			t.Fatal(err)
		}
		res, err := engine.Classify(data, name)
		if err != nil {
			t.Fatal(err)
		}
		if res.OOD == nil {
			t.Fatal("the default model has no OOD statistics")
		}
		native[name] = res.OOD.Flagged
	}
	if !native["noise.png"] || native["fashion-0.png"] {
		t.Fatalf("native verdicts %v: want the noise flagged and the Fashion-MNIST image not", native)
	}

	srv := startServer(t, freePort(t))
	defer srv.stop()
	ctx := newBrowser(t)
	run(t, ctx, 30*time.Second, chromedp.Navigate(srv.url+"/"))
	if got := selectModel(t, ctx, "fashion-mnist-vgg16", indexSHA(t, srv, "fashion-mnist-vgg16")); got != "network" && got != "cache" {
		t.Fatalf("default model: %q", got)
	}
	upload(t, ctx, "noise.png", "fashion-0.png")
	results(t, ctx, 2)
	raw := waitFor(t, ctx, "the result cards' OOD verdicts", `JSON.stringify(Object.fromEntries(
		[...document.querySelectorAll("#results article.result")].map(a =>
			[a.dataset.name, {flagged: a.dataset.ood === "true", note: (a.querySelector(".ood-note") || {}).textContent || ""}])))`, 10*time.Second)
	var s string
	json.Unmarshal(raw, &s)
	var cards map[string]struct {
		Flagged bool
		Note    string
	}
	if err := json.Unmarshal([]byte(s), &cards); err != nil {
		t.Fatal(err)
	}
	for name, want := range native {
		c := cards[name]
		if c.Flagged != want {
			t.Errorf("%s: page flagged=%v, native %v", name, c.Flagged, want)
		}
		if wantNote := map[bool]string{true: ui.OODNote, false: ""}[want]; c.Note != wantNote {
			t.Errorf("%s: note %q, want %q", name, c.Note, wantNote)
		}
	}
	screenshot(t, ctx, "ood-note.png")
}
