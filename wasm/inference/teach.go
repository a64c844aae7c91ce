package inference

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"strings"
	"time"

	"vggo/kernels"
	"vggo/model"
	"vggo/model/headtrain"
	"vggo/model/headtrain/headspec"
	"vggo/model/lastconv"
	"vggo/wasm/protocol"
)

// Features returns the global average of the loaded model's conv base
// output for img (preprocessed as the model wants): the input of a gap or
// linear head, all the teach page keeps of an image. With lastConvInput it
// returns the input of the base's last conv layer instead (H×W×C, NHWC),
// which that layer then trains on with the head.
func (e *Engine) Features(img image.Image, name string, lastConvInput bool) (protocol.TeachFeatures, error) {
	if e.net == nil {
		return protocol.TeachFeatures{}, fmt.Errorf("%s: %s", name, e.notAlone())
	}
	start := time.Now()
	info := e.model.Info
	net := e.featureNet()
	x := model.Preprocess(img, info.InputSize, info.Preprocess)
	var f []float32
	switch last := net.Arch().Depth() - 1; {
	case !lastConvInput:
		f = net.PooledFeatures(1, x)
	case last == 0:
		f = x // a base of one conv layer: its input is the image
	default:
		f = net.ForwardTo(1, x, last-1)
	}
	return protocol.TeachFeatures{Name: name, Base: info.SHA256, Features: f, Millis: millisSince(start)}, nil
}

// featureNet is the base's network: the loaded one, or after Teach the
// base it was taught on.
func (e *Engine) featureNet() *model.Net {
	if e.baseNet != nil {
		return e.baseNet
	}
	return e.net
}

// featureShape is the shape of one image's features for req: 1×1×C pooled
// base output, or the last conv layer's input.
func (e *Engine) featureShape(tuneConv bool) (h, w, c int) {
	net := e.featureNet()
	last := net.Arch().Depth() - 1
	switch {
	case !tuneConv:
		return 1, 1, net.Arch().Channels()
	case last == 0:
		return net.InputSize(), net.InputSize(), 3
	}
	return net.ActivationShape(last - 1)
}

// TeachFeatureCheck verifies a train request's shape: every feature vector
// as long as the loaded base gives (pooled output, or the last conv
// layer's input with TuneConv), a label per image, two or more distinct
// non-empty class names.
func (e *Engine) TeachFeatureCheck(req protocol.TeachTrainRequest) error {
	if e.net == nil {
		return fmt.Errorf("%s", e.notAlone())
	}
	seen := map[string]bool{}
	for _, c := range req.Classes {
		k := strings.ToLower(strings.TrimSpace(c))
		switch {
		case k == "":
			return fmt.Errorf("a class has no name")
		case seen[k]:
			return fmt.Errorf("two classes are named %q: give each class its own name", c)
		}
		seen[k] = true
	}
	if len(req.Classes) < 2 {
		return fmt.Errorf("%d class(es): a classifier needs at least 2", len(req.Classes))
	}
	if len(req.Features) != len(req.Labels) {
		return fmt.Errorf("%d feature vectors for %d labels", len(req.Features), len(req.Labels))
	}
	h, w, c := e.featureShape(req.TuneConv)
	for i, f := range req.Features {
		if len(f) != h*w*c {
			return fmt.Errorf("image %d: %d features, the base gives %d (computed with another base or setting?)", i, len(f), h*w*c)
		}
	}
	return nil
}

// teachFeatures gathers a request's features for headtrain.
func (e *Engine) teachFeatures(req protocol.TeachTrainRequest) (*headtrain.Features, error) {
	if err := e.TeachFeatureCheck(req); err != nil {
		return nil, err
	}
	if err := headtrain.Validate(req.Settings, len(req.Classes)); err != nil {
		return nil, err
	}
	h, w, c := e.featureShape(req.TuneConv)
	f := &headtrain.Features{H: h, W: w, C: c, Labels: req.Labels, X: make([]float32, 0, len(req.Features)*h*w*c)}
	for _, v := range req.Features {
		f.X = append(f.X, v...)
	}
	return f, nil
}

// TeachSteps is the number of epochs Teach and TeachEvaluate run together:
// the final run, and one run per fold of the evaluation.
func TeachSteps(req protocol.TeachTrainRequest) (int, error) {
	split, err := headspec.PlanSplit(req.Labels, req.Classes, req.Settings.Seed)
	if err != nil {
		return 0, err
	}
	return (len(split.Folds) + 1) * req.Settings.Epochs, nil
}

// Teach trains a head on all the request's images, reporting each epoch
// (its Step counted from 1); a false from progress stops it, keeping the
// best epoch so far. The engine then classifies with the taught model (the
// base's conv layers, shared, and the new head, as the int8 model file
// will hold it). TeachEvaluate measures it; BuildModel writes its file.
func (e *Engine) Teach(req protocol.TeachTrainRequest, progress func(protocol.TeachEpoch) bool) (protocol.TeachTrained, error) {
	start := time.Now()
	f, err := e.teachFeatures(req)
	if err != nil {
		return protocol.TeachTrained{}, err
	}
	steps, err := TeachSteps(req)
	if err != nil {
		return protocol.TeachTrained{}, err
	}
	stopped := false
	progressed := func(ep headtrain.Epoch) bool {
		if !progress(protocol.TeachEpoch{Phase: "training", Step: ep.Epoch, Steps: steps, Result: ep}) {
			stopped = true
		}
		return !stopped
	}
	base := e.teachBase()
	last := base.Base.Arch.Depth() - 1
	var head model.Head
	var conv model.ConvParams
	var hist []headtrain.Epoch
	if req.TuneConv {
		conv, head, hist, err = lastconv.Fit(f, len(req.Classes), base.Base.Layers[last], base.Base.Arch.Conv(last).PoolAfter, req.Settings, progressed)
	} else {
		head, hist, err = headtrain.Fit(f, len(req.Classes), req.Settings, progressed)
	}
	if err != nil {
		return protocol.TeachTrained{}, err
	}
	m := e.taughtModel(req, head)
	if req.TuneConv {
		m.Base.Layers[last] = conv
	}
	if req.Quantize == "" || req.Quantize == model.DTypeInt8 { // as the int8 file will hold it
		for i, d := range m.Head.Dense {
			q, scales := kernels.QuantizeInt8(d.Kernel, d.Out)
			kernels.DequantizeInt8(q, scales, m.Head.Dense[i].Kernel)
		}
		if req.TuneConv {
			q, scales := kernels.QuantizeInt8(conv.Kernel, len(conv.Bias))
			kernels.DequantizeInt8(q, scales, conv.Kernel)
		}
	}
	from := last + 1
	if req.TuneConv {
		from = last
	}
	net, err := e.featureNet().WithRetrained(m, from)
	if err != nil {
		return protocol.TeachTrained{}, err
	}
	if e.base == nil {
		e.base, e.baseNet = e.model, e.net
	}
	e.name, e.info, e.model, e.net = req.ModelName, m.Info, m, net
	return protocol.TeachTrained{History: hist, Stopped: stopped, TrainMillis: millisSince(start)}, nil
}

// TeachEvaluate measures how heads trained as req says do on images they
// did not see (headtrain.Evaluate), reporting each epoch with Step
// continuing after Teach's epochs, and records the result in the taught
// model's provenance.
func (e *Engine) TeachEvaluate(req protocol.TeachTrainRequest, progress func(protocol.TeachEpoch) bool) (headtrain.Evaluation, error) {
	f, err := e.teachFeatures(req)
	if err != nil {
		return headtrain.Evaluation{}, err
	}
	steps, err := TeachSteps(req)
	if err != nil {
		return headtrain.Evaluation{}, err
	}
	step := req.Settings.Epochs
	fit := func(train, test *headtrain.Features, progress func(headtrain.Epoch) bool) ([]int, error) {
		head, _, err := headtrain.Fit(train, len(req.Classes), req.Settings, progress)
		if err != nil {
			return nil, err
		}
		return headtrain.Predict(head, test)
	}
	if req.TuneConv {
		base := e.teachBase()
		last := base.Base.Arch.Depth() - 1
		conv, pool := base.Base.Layers[last], base.Base.Arch.Conv(last).PoolAfter
		fit = func(train, test *headtrain.Features, progress func(headtrain.Epoch) bool) ([]int, error) {
			conv, head, _, err := lastconv.Fit(train, len(req.Classes), conv, pool, req.Settings, progress)
			if err != nil {
				return nil, err
			}
			return lastconv.Predict(conv, pool, head, test)
		}
	}
	ev, err := headtrain.EvaluateWith(f, req.Classes, req.Settings, fit, func(phase string, ep headtrain.Epoch) bool {
		step++
		return progress(protocol.TeachEpoch{Phase: phase, Step: step, Steps: steps, Result: ep})
	})
	if err != nil {
		return ev, err
	}
	if e.base != nil {
		p := e.model.Info.Provenance
		p["evaluation"], p["evaluation_explain"], p["accuracy"] = ev.Method, ev.Explain, fmt.Sprintf("%.4f", ev.Accuracy)
	}
	return ev, nil
}

// taughtModel is the base with head, the request's classes and
// description, provenance saying how it was made, and no OOD statistics
// (the base's are for its own classes).
func (e *Engine) taughtModel(req protocol.TeachTrainRequest, head model.Head) *model.Model {
	base := e.teachBase()
	info := base.Info
	info.Classes = req.Classes
	info.Head = head.Kind
	info.Description = req.Description
	// The page trains and measures the head on the pictures as they are;
	// whether a mirror image is the same class is the user's to know.
	info.FlipAverage = false
	info.Provenance = map[string]string{
		"made_by":    "vggo teach page (in the browser)",
		"base":       base.Info.SHA256,
		"images":     fmt.Sprint(len(req.Labels)),
		"settings":   fmt.Sprintf("head %s hidden %v epochs %d batch %d lr %g optimizer %s dropout %g seed %d", req.Settings.Head, req.Settings.Hidden, req.Settings.Epochs, req.Settings.Batch, req.Settings.LR, req.Settings.Optimizer, req.Settings.Dropout, req.Settings.Seed),
		"fine_tuned": fineTuned(req.TuneConv),
		"date":       time.Now().UTC().Format(time.RFC3339),
	}
	return &model.Model{Info: info, Base: base.Base, Head: head}
}

// teachBase is the model whose conv layers a teach run starts from: the
// loaded one, or when teaching again the first base.
func (e *Engine) teachBase() *model.Model {
	if e.base != nil {
		return e.base
	}
	return e.model
}

func fineTuned(tuneConv bool) string {
	if tuneConv {
		return "the base's last conv layer and the head"
	}
	return "the head only (conv base frozen)"
}

// BuildModel writes the taught model (after Teach) as a model file,
// encoded as dtype ("" for int8), and returns it with its index entry
// under LocalModelPrefix.
func (e *Engine) BuildModel(dtype string) ([]byte, protocol.ModelEntry, error) {
	if e.base == nil {
		return nil, protocol.ModelEntry{}, fmt.Errorf("no model has been taught yet")
	}
	if dtype == "" {
		dtype = model.DTypeInt8
	}
	var buf bytes.Buffer
	if err := model.WriteModel(&buf, e.model, dtype); err != nil {
		return nil, protocol.ModelEntry{}, err
	}
	return buf.Bytes(), localEntry(buf.Bytes(), firstNonEmpty(e.name, "my model"), e.model.Info), nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// LocalEntry checks a model file made or imported in the browser and
// returns its index entry under LocalModelPrefix.
func LocalEntry(data []byte, name string) (protocol.ModelEntry, error) {
	m, err := model.ReadModel(bytes.NewReader(data), int64(len(data)), name)
	if err != nil {
		return protocol.ModelEntry{}, err
	}
	return localEntry(data, name, m.Info), nil
}

func localEntry(data []byte, name string, info model.Info) protocol.ModelEntry {
	sum := sha256.Sum256(data)
	sha := hex.EncodeToString(sum[:])
	file := slug(name) + "-" + sha[:8] + ".vggo.safetensors"
	return protocol.ModelEntry{Name: name, File: file, URL: protocol.LocalModelPrefix + file, Classes: info.Classes,
		InputSize: info.InputSize, Bytes: int64(len(data)), SHA256: sha, Preprocess: info.Preprocess, Head: info.Head}
}

// slug is name in lower-case letters, digits and dashes.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimRight(b.String(), "-")
	if s == "" {
		s = "model"
	}
	return s
}

// notAlone says why teaching cannot run here: no model yet, or this engine
// holds one shard of a pool (teaching needs the whole base in one worker;
// the teach page runs one).
func (e *Engine) notAlone() string {
	switch {
	case e.shard == nil:
		return "no base model is loaded yet"
	case e.split():
		return "teaching needs the whole base in one worker, this worker holds a shard of a pool"
	}
	return "teaching needs the whole base as float32, this worker holds it packed to save memory"
}
