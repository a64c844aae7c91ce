package ui

import (
	"fmt"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// SamplesDir is the URL folder of the sample images (web/static/samples).
const SamplesDir = "/web/static/samples/"

// Sample is one clickable example image: a Fashion-MNIST TEST-set image
// (never a training image) that the default model classifies as Class.
// server/default_model_test.go checks each one natively against the
// committed default model and against the test set at TestIndex.
type Sample struct {
	File      string // file name under SamplesDir
	Class     string // its true label, which the default model predicts
	TestIndex int    // index in Fashion-MNIST's t10k files
}

// Samples are shown under "Try a sample"; scripts/default-model.sh
// (go run ./scripts/defaultmodel samples) picks them and prints this table.
var Samples = []Sample{
	{File: "test-01038-t-shirt-top.png", Class: "T-shirt/top", TestIndex: 1038},
	{File: "test-01012-trouser.png", Class: "Trouser", TestIndex: 1012},
	{File: "test-01018-pullover.png", Class: "Pullover", TestIndex: 1018},
	{File: "test-01001-dress.png", Class: "Dress", TestIndex: 1001},
	{File: "test-01026-coat.png", Class: "Coat", TestIndex: 1026},
	{File: "test-01002-sandal.png", Class: "Sandal", TestIndex: 1002},
	{File: "test-01004-shirt.png", Class: "Shirt", TestIndex: 1004},
	{File: "test-01010-sneaker.png", Class: "Sneaker", TestIndex: 1010},
	{File: "test-01014-bag.png", Class: "Bag", TestIndex: 1014},
	{File: "test-01007-ankle-boot.png", Class: "Ankle boot", TestIndex: 1007},
}

// URL is where the server hands the sample out.
func (s Sample) URL() string { return SamplesDir + s.File }

// classifySample downloads a sample image and classifies it like a picked
// file, so it goes through exactly the path a user's photo takes.
func (c *Classifier) classifySample(ctx app.Context, s Sample) {
	c.notice = ""
	fail := func(ctx app.Context, why string) {
		c.notice = fmt.Sprintf("Cannot load the sample %s (%s).", s.File, why)
	}
	fetchBody(ctx, app.Window().Call("fetch", s.URL()), "blob",
		func(ctx app.Context, blob app.Value) { c.classifyBlob(ctx, blob, s.File) }, fail)
}

// renderSamples draws the sample images as buttons.
func (c *Classifier) renderSamples() app.UI {
	return app.Section().ID("samples").Class("panel").Aria("labelledby", "samples-heading").Body(
		app.H2().ID("samples-heading").Text("Try a sample"),
		app.P().Class("note").Text("Images from the Fashion-MNIST test set, which the default model never saw in training. Click one to classify it."),
		app.Div().Class("buttons").Body(
			app.Range(Samples).Slice(func(i int) app.UI {
				s := Samples[i]
				return app.Button().Type("button").Class("button secondary sample").DataSet("sample", s.File).
					Title("Classify this "+s.Class).
					Aria("label", "Classify the sample image of a "+s.Class).
					OnClick(func(ctx app.Context, e app.Event) { c.classifySample(ctx, s) }).
					Body(app.Img().Src(s.URL()).Alt("Test image: " + s.Class).Width(56).Height(56))
			}),
		),
	)
}
