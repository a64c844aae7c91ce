package e2e

import (
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

// TestCutBaseModelInBrowser serves a model whose base is cut after 7 conv
// layers (train -base-layers 7: format version 2, only those layers in the
// file) and classifies samples with it in the browser's inference worker:
// every result matches the native Net on the same file within the PNG
// tolerance, so the worker honours the cut as the native forward pass does.
func TestCutBaseModelInBrowser(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	m := inference.RandomModel(32, 16, 43)
	m.Base = *m.Base.Cut(7)
	m.Info.BaseLayers = 7
	m.Info.Classes = fashionClasses
	m.Info.Preprocess = model.PreprocessTorch // inputs of unit scale, so the random head's probabilities do not saturate
	c := m.Base.Arch.Channels()
	rng := rand.New(rand.NewPCG(19, 7))
	k := make([]float32, c*len(fashionClasses))
	for i := range k {
		k[i] = float32(rng.NormFloat64() / float64(c))
	}
	m.Head = model.Head{Kind: model.HeadLinear, Dense: []model.DenseParams{{In: c, Out: len(fashionClasses), Kernel: k, Bias: make([]float32, len(fashionClasses))}}}
	dir := t.TempDir()
	path := filepath.Join(dir, "cut7.vggo.safetensors")
	if err := model.WriteModelFile(path, m, model.DTypeInt8); err != nil {
		t.Fatal(err)
	}
	back, err := model.ReadModelFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Info.FormatVersion != 2 || back.Base.Arch.Depth() != 7 {
		t.Fatalf("cut model file: format version %d, depth %d; want 2 and 7", back.Info.FormatVersion, back.Base.Arch.Depth())
	}
	net, err := model.NewNet(back)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	var urls []string
	for _, s := range ui.Samples[:4] {
		data, err := os.ReadFile(filepath.Join(root, "web", "static", "samples", s.File))
		if err != nil {
			t.Fatal(err)
		}
		files[s.URL()] = data
		urls = append(urls, s.URL())
	}
	srv := startServer(t, freePort(t), "-models", dir) // the last -models wins
	defer srv.stop()
	waitListed(t, srv, filepath.Base(path), 60*time.Second) // the page reads /models once
	ctx := newBrowser(t)
	run(t, ctx, 30*time.Second, chromedp.Navigate(srv.url+"/"))
	results := workerResults(t, ctx, "cut7", urls)
	spread := false // a comparison of saturated probabilities (1 and 0) would prove little
	for _, u := range urls {
		res, ok := results[u]
		if !ok {
			t.Fatalf("no result for %s", u)
		}
		compareNative(t, net, res, files[u], pngTolerance)
		spread = spread || res.Top[0].Prob < 0.99
	}
	if !spread {
		t.Error("every sample has a top probability ≥ 0.99: the random head saturates, so the comparison shows little")
	}
}
