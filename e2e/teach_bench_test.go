package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"vggo/model"
	"vggo/wasm/inference"
)

// BenchmarkTeachFeatures measures, in Chromium, what the teach page spends
// per image on its features (decode, preprocessing and the conv base in
// the worker) with a full-width VGG16 base at 224x224 input, against the
// default 32x32 base in the same browser session (before and after, to
// see drift): the same 12 Fashion-MNIST images, one worker, one epoch.
// Run: go test ./e2e -run '^$' -bench BenchmarkTeachFeatures -benchtime=1x
func BenchmarkTeachFeatures(b *testing.B) {
	dir := b.TempDir()
	models := filepath.Join(dir, "models")
	os.MkdirAll(models, 0o755)
	m := inference.RandomModel(224, 1, 7)
	m.Info.Classes = fashionClasses
	if err := model.WriteModelFile(filepath.Join(models, "vgg16-224.vggo.safetensors"), m, model.DTypeInt8); err != nil {
		b.Fatal(err)
	}
	srv := startServer(b, freePort(b), "-models", models)
	defer srv.stop()
	waitListed(b, srv, "vgg16-224.vggo.safetensors", 120*time.Second)
	ctx := newBrowser(b)
	files, _ := teachImages(b, filepath.Join(dir, "data"))
	const perClass = 6
	for i := 0; i < b.N; i++ {
		perImage := map[string][]float64{}
		for round, base := range []string{"fashion-mnist-vgg16", "vgg16-224", "fashion-mnist-vgg16"} {
			openTeach(b, ctx, srv, base)
			if round == 0 {
				for k := 0; k < 2; k++ {
					sel := fmt.Sprintf(`#teach-classes .teach-class[data-class-index="%d"] input.class-files`, k)
					run(b, ctx, 60*time.Second, chromedp.SetUploadFiles(chromedp.CSS(sel), files[k][:perClass]))
				}
			}
			waitFor(b, ctx, "the images", teachCounts+fmt.Sprintf(` === "%d,%d"`, perClass, perClass), 30*time.Second)
			run(b, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](`(() => { const in_ = document.querySelector("#teach-epochs");
				in_.value = "1"; in_.dispatchEvent(new Event("change", {bubbles: true})); })()`))
			run(b, ctx, 10*time.Second, chromedp.Click(chromedp.ID("train-button")))
			waitFor(b, ctx, "the trained model", teachReadyExpr, 600*time.Second)
			worker, _ := strconv.ParseFloat(evalString(b, ctx, `document.querySelector("#teach-result").dataset.featuresWorkerMs`), 64)
			wall, _ := strconv.ParseFloat(evalString(b, ctx, `document.querySelector("#teach-result").dataset.featuresMs`), 64)
			n := float64(2 * perClass)
			perImage[base] = append(perImage[base], worker/n)
			// Stderr, not b.Logf: the testing package cuts a benchmark's log short.
			fmt.Fprintf(os.Stderr, "teach features: %s: %.1f ms per image in the worker (decode, preprocessing, conv base), %.1f ms per image from the click to the last feature, %d images\n",
				base, worker/n, wall/n, 2*perClass)
		}
		small := (perImage["fashion-mnist-vgg16"][0] + perImage["fashion-mnist-vgg16"][1]) / 2
		fmt.Fprintf(os.Stderr, "teach features: 224x224 / 32x32 per image: %.1fx (32x32 before and after: %.1f and %.1f ms)\n",
			perImage["vgg16-224"][0]/small, perImage["fashion-mnist-vgg16"][0], perImage["fashion-mnist-vgg16"][1])
		b.ReportMetric(perImage["vgg16-224"][0], "ms/img-224")
		b.ReportMetric(small, "ms/img-32")
	}
	fmt.Fprintf(os.Stderr, "teach features: load average %s\n", loadAverage())
}
