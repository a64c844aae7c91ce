// Command defaultmodel turns a `train fit` run on Fashion-MNIST into the
// default model the server embeds, and measures what the model card reports.
// scripts/default-model.sh drives it; run it by hand as
//
//	go run ./scripts/defaultmodel package -in RUN/model.safetensors -out web/models/NAME.vggo.safetensors
//	go run ./scripts/defaultmodel samples -model MODEL -out web/static/samples
//	go run ./scripts/defaultmodel measure -model MODEL [-n 10000]
//	go run ./scripts/defaultmodel latency [-sizes 32,64,96]
//	go run ./scripts/defaultmodel ood -model MODEL [-n 1000] [-data DIR]
//
// package copies the trainer's model file, replacing only metadata: the
// folder-safe class names the trainer learnt from ("0_tshirt_top") become
// Fashion-MNIST's display names ("T-shirt/top"), the description is set
// (-description, default DefaultDescription) and provenance entries are
// added. A packaged file may be packaged again (-in and -out the same). Tensor bytes are copied unchanged, so the weights are exactly the
// trained ones.
//
// samples writes, for each class, the first image of the Fashion-MNIST TEST
// set (never the training set) that the model classifies correctly, as a
// 28x28 grey PNG, and prints the Go table wasm/ui's sample list holds.
//
// measure prints the file's size and SHA-256 and its accuracy on the first
// n test images (the fixed 1,000-image subset the tests use, or all 10,000).
//
// ood prints the out-of-distribution table of the model card: how many
// test images, noise images and light-background garments the model flags.
//
// latency times one-image forward passes of a full-width VGG16 (random
// weights, gap head) at several input sizes, as ratios to the smallest; run
// under GOOS=js GOARCH=wasm (node) it measures what the browser worker does.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"vggo/internal/atomicfile"
	"vggo/model"
	"vggo/model/rank"
	"vggo/model/safetensors"
	"vggo/train/data"
)

// FashionMNISTNames are the display names of the Fashion-MNIST labels, in
// label order (the order of data.FashionMNISTClasses, the trainer's folder
// names).
var FashionMNISTNames = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// DefaultDescription is the default model's line for its users: what the
// pictures it learnt from look like, so a visitor knows what it can answer.
const DefaultDescription = "Fashion-MNIST: 28×28 grey product photos of one centred garment, shoe or bag, light on a black background"

// Default locations of Debian's dataset-fashion-mnist test set.
const (
	defaultTestImages = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
	defaultTestLabels = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: defaultmodel package|average|validate|samples|measure|latency|ood [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "package":
		err = cmdPackage(os.Args[2:])
	case "average":
		err = cmdAverage(os.Args[2:])
	case "validate":
		err = cmdValidate(os.Args[2:])
	case "samples":
		err = cmdSamples(os.Args[2:])
	case "measure":
		err = cmdMeasure(os.Args[2:])
	case "latency":
		err = cmdLatency(os.Args[2:])
	case "ood":
		err = cmdOOD(os.Args[2:])
	default:
		err = fmt.Errorf("unknown subcommand %q (package, average, validate, samples, measure, latency or ood)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "defaultmodel:", err)
		os.Exit(1)
	}
}

func cmdPackage(args []string) error {
	fs := flag.NewFlagSet("package", flag.ExitOnError)
	in := fs.String("in", "", "the trainer's model file (RUN/model.safetensors)")
	out := fs.String("out", "", "the default model file to write")
	var prov stringMap
	fs.Var(&prov, "provenance", "KEY=VALUE added as provenance.KEY (repeatable)")
	desc := fs.String("description", DefaultDescription, "the model file's one line for its users")
	flip := fs.Bool("flip-average", false, "store that every picture is classified as it is and mirrored, and the two averaged (model.Info.FlipAverage): twice the work per picture, for a model trained with flips")
	folders := fs.Bool("folder-names", false, "store the class folder names (0_tshirt_top, ...) instead of the display names: a file that `train fit -weights` continues with its head on convert-idx's folders")
	fs.Parse(args)
	if *in == "" || *out == "" {
		return fmt.Errorf("package: -in and -out are required")
	}
	f, err := safetensors.ReadFile(*in)
	if err != nil {
		return err
	}
	info, err := model.ReadInfo(*in)
	if err != nil {
		return err
	}
	// Display names too: a packaged file can be packaged again, to change
	// its description or provenance.
	classes := strings.Join(info.Classes, ",")
	if classes != strings.Join(data.FashionMNISTClasses, ",") && classes != strings.Join(FashionMNISTNames, ",") {
		return fmt.Errorf("%s: classes %q are not the Fashion-MNIST folders %q (nor their display names)", *in, info.Classes, data.FashionMNISTClasses)
	}
	md := make(map[string]string, len(f.Metadata)+len(prov))
	for k, v := range f.Metadata {
		md[k] = v
	}
	names, _ := json.Marshal(FashionMNISTNames)
	if *folders {
		names, _ = json.Marshal(data.FashionMNISTClasses)
	}
	md["classes"] = string(names)
	md["description"] = *desc
	delete(md, "flip_average")
	if *flip {
		md["flip_average"] = "true"
	}
	for k, v := range prov {
		md["provenance."+k] = v
	}
	err = atomicfile.Write(*out, 0o644, func(w io.Writer) error { return safetensors.Write(w, f.Tensors, md) })
	if err != nil {
		return err
	}
	m, err := model.ReadModelFile(*out)
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d classes %q, %dx%d input, preprocess %s, head %s, %s weights, %d bytes, SHA-256 %s\n",
		*out, len(m.Info.Classes), m.Info.Classes, m.Info.InputSize, m.Info.InputSize, m.Info.Preprocess, m.Info.Head, m.Info.DType, m.Info.Bytes, m.Info.SHA256)
	return nil
}

// cmdAverage writes the int8 model whose weights are the mean of the
// given model files (model.Average): the default model's last step
// averages training stages that continue one another, or a stage's epoch
// snapshots (train fit -snapshots). -t gives the last file's share when
// there are two. The result has no OOD statistics; train ood adds them.
func cmdAverage(args []string) error {
	fs := flag.NewFlagSet("average", flag.ExitOnError)
	t := fs.Float64("t", 0.5, "with two model files: the second's share of every weight, 0..1 (without -t: the plain mean)")
	out := fs.String("out", "", "the int8 model file to write")
	fs.Parse(args)
	paths := fs.Args()
	if len(paths) < 2 || *out == "" {
		return fmt.Errorf("average: usage: average -out FILE [-t T] MODEL MODEL...")
	}
	shares := make([]float64, len(paths))
	for i := range shares {
		shares[i] = 1 / float64(len(paths))
	}
	tSet := false
	fs.Visit(func(f *flag.Flag) { tSet = tSet || f.Name == "t" })
	if tSet {
		if len(paths) != 2 {
			return fmt.Errorf("average: -t needs exactly two model files, not %d", len(paths))
		}
		shares[0], shares[1] = 1-*t, *t
	}
	models := make([]*model.Model, len(paths))
	for i, p := range paths {
		var err error
		if models[i], err = model.ReadModelFile(p); err != nil {
			return err
		}
	}
	m, err := model.Average(models, shares)
	if err != nil {
		return fmt.Errorf("%s: %w", strings.Join(paths, ", "), err)
	}
	if err := model.WriteModelFile(*out, m, "int8"); err != nil {
		return err
	}
	terms := make([]string, len(paths))
	for i, p := range paths {
		terms[i] = fmt.Sprintf("%.3f·%s", shares[i], p)
	}
	fmt.Printf("%s: %s, int8\n", *out, strings.Join(terms, " + "))
	return nil
}

// stringMap is a repeatable KEY=VALUE flag.
type stringMap map[string]string

func (m *stringMap) String() string { return fmt.Sprint(map[string]string(*m)) }

func (m *stringMap) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", s)
	}
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[k] = v
	return nil
}

// testSet is the Fashion-MNIST test set: 28x28 grey images and labels.
type testSet struct {
	images []*image.Gray
	labels []int
}

func readTestSet(imagesPath, labelsPath string) (*testSet, error) {
	imgs, err := data.ReadIDXFile(imagesPath)
	if err != nil {
		return nil, err
	}
	labs, err := data.ReadIDXFile(labelsPath)
	if err != nil {
		return nil, err
	}
	if len(imgs.Dims) != 3 || len(labs.Dims) != 1 || imgs.Dims[0] != labs.Dims[0] {
		return nil, fmt.Errorf("%s, %s: shapes %v and %v are not N images and N labels", imagesPath, labelsPath, imgs.Dims, labs.Dims)
	}
	n, h, w := imgs.Dims[0], imgs.Dims[1], imgs.Dims[2]
	ts := &testSet{}
	for i := 0; i < n; i++ {
		g := image.NewGray(image.Rect(0, 0, w, h))
		copy(g.Pix, imgs.Data[i*h*w:(i+1)*h*w])
		ts.images = append(ts.images, g)
		ts.labels = append(ts.labels, int(labs.Data[i]))
	}
	return ts, nil
}

// predict returns the top-1 class index of the first n images, batch by batch.
func predict(net *model.Net, images []*image.Gray, n int) []int {
	out := make([]int, 0, n)
	forwardBatches(net, n, func(i int) image.Image { return images[i] }, func(_ int, probs []float32) {
		out = append(out, rank.Best(probs))
	})
	return out
}

// forwardBatches runs images 0..n-1 (imageAt(i)) through net 50 at a time
// and hands each one's probabilities to each, in order.
func forwardBatches(net *model.Net, n int, imageAt func(i int) image.Image, each func(i int, probs []float32)) {
	const batch = 50
	size := net.InputSize()
	per := size * size * 3
	classes := len(net.Classes())
	x := make([]float32, batch*per)
	for start := 0; start < n; start += batch {
		b := min(batch, n-start)
		for i := 0; i < b; i++ {
			if err := model.PreprocessInto(x[i*per:(i+1)*per], imageAt(start+i), size, net.PreprocessMode()); err != nil {
				panic(err)
			}
		}
		probs := net.Forward(b, x[:b*per])
		for i := 0; i < b; i++ {
			each(start+i, probs[i*classes:(i+1)*classes])
		}
	}
}

func loadNet(path string) (*model.Net, *model.Model, error) {
	m, err := model.ReadModelFile(path)
	if err != nil {
		return nil, nil, err
	}
	net, err := model.NewNet(m)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return net, m, nil
}

func cmdSamples(args []string) error {
	fs := flag.NewFlagSet("samples", flag.ExitOnError)
	modelPath := fs.String("model", "", "model file")
	out := fs.String("out", "web/static/samples", "folder for the PNGs")
	from := fs.Int("from", 1000, "first test index to consider (the 1,000-image accuracy subset comes before it)")
	imagesPath := fs.String("images", defaultTestImages, "test images (IDX)")
	labelsPath := fs.String("labels", defaultTestLabels, "test labels (IDX)")
	fs.Parse(args)
	net, _, err := loadNet(*modelPath)
	if err != nil {
		return err
	}
	ts, err := readTestSet(*imagesPath, *labelsPath)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	classes := net.Classes()
	found := map[int]int{}
	for i := *from; i < len(ts.images) && len(found) < len(classes); i++ {
		label := ts.labels[i]
		if _, ok := found[label]; ok {
			continue
		}
		if predict(net, ts.images[i:i+1], 1)[0] == label {
			found[label] = i
		}
	}
	labels := make([]int, 0, len(found))
	for l := range found {
		labels = append(labels, l)
	}
	sort.Ints(labels)
	fmt.Println("// generated by: go run ./scripts/defaultmodel samples")
	for _, label := range labels {
		i := found[label]
		name := fmt.Sprintf("test-%05d-%s.png", i, slug(classes[label]))
		f, err := os.Create(filepath.Join(*out, name))
		if err != nil {
			return err
		}
		if err := png.Encode(f, ts.images[i]); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Printf("{File: %q, Class: %q, TestIndex: %d},\n", name, classes[label], i)
	}
	return nil
}

// slug makes a class name safe for a file name: "T-shirt/top" → "t-shirt-top".
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

func cmdMeasure(args []string) error {
	fs := flag.NewFlagSet("measure", flag.ExitOnError)
	modelPath := fs.String("model", "", "model file")
	n := fs.Int("n", 1000, "evaluate the first n test images")
	imagesPath := fs.String("images", defaultTestImages, "test images (IDX)")
	labelsPath := fs.String("labels", defaultTestLabels, "test labels (IDX)")
	fs.Parse(args)
	raw, err := os.ReadFile(*modelPath)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(raw)
	net, m, err := loadNet(*modelPath)
	if err != nil {
		return err
	}
	ts, err := readTestSet(*imagesPath, *labelsPath)
	if err != nil {
		return err
	}
	if *n > len(ts.images) || *n < 1 {
		return fmt.Errorf("-n %d: the test set has %d images", *n, len(ts.images))
	}
	start := time.Now()
	pred := predict(net, ts.images, *n)
	correct := 0
	classes := len(m.Info.Classes)
	conf := make([][]int, classes)
	for i := range conf {
		conf[i] = make([]int, classes)
	}
	for i, p := range pred {
		conf[ts.labels[i]][p]++
		if p == ts.labels[i] {
			correct++
		}
	}
	fmt.Printf("file %s: %d bytes, SHA-256 %s, %s weights\n", *modelPath, len(raw), hex.EncodeToString(sum[:]), m.Info.DType)
	fmt.Printf("accuracy on test images [0,%d): %d/%d = %.2f %% (%.1fs)\n", *n, correct, *n, 100*float64(correct)/float64(*n), time.Since(start).Seconds())
	fmt.Println("confusion (rows: true class, columns: predicted):")
	for i, row := range conf {
		fmt.Printf("%-12s %v\n", m.Info.Classes[i], row)
	}
	return nil
}

func cmdLatency(args []string) error {
	fs := flag.NewFlagSet("latency", flag.ExitOnError)
	sizes := fs.String("sizes", "32,64,96", "input sizes (multiples of 32)")
	reps := fs.Int("reps", 5, "timed forward passes per size (the median is reported)")
	fs.Parse(args)
	var results []string
	var base float64
	for _, s := range strings.Split(*sizes, ",") {
		size, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("-sizes: %w", err)
		}
		m := randomModel(size, 1)
		net, err := model.NewNet(m)
		if err != nil {
			return err
		}
		x := make([]float32, size*size*3)
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range x {
			x[i] = rng.Float32()*2 - 1
		}
		net.Forward(1, x) // warm-up: buffers, packed weights
		times := make([]float64, *reps)
		for i := range times {
			t0 := time.Now()
			net.Forward(1, x)
			times[i] = time.Since(t0).Seconds() * 1000
		}
		sort.Float64s(times)
		med := times[len(times)/2]
		if base == 0 {
			base = med
		}
		results = append(results, fmt.Sprintf("%dx%d: median %.1f ms (%.2fx the first size)", size, size, med, med/base))
		fmt.Println(results[len(results)-1])
	}
	return nil
}

// randomModel is a VGG16 (channels divided by widthDiv; 1 is the real one)
// with the gap head and 10 classes, with random weights: latency does not
// depend on the values.
func randomModel(size, widthDiv int) *model.Model {
	rng := rand.New(rand.NewPCG(7, uint64(size)))
	arch := model.Arch{WidthDiv: widthDiv}
	m := &model.Model{Info: model.Info{Arch: "vgg16", InputSize: size, WidthDiv: widthDiv, Head: model.HeadGAP,
		Classes: FashionMNISTNames, Preprocess: model.PreprocessTorch}}
	m.Base.Arch = arch
	for i := range model.VGG16Convs {
		spec := arch.Conv(i)
		cin, cout := spec.Cin, spec.Cout
		k := make([]float32, 9*cin*cout)
		for j := range k {
			k[j] = float32(rng.NormFloat64()) * 0.05
		}
		m.Base.Layers[i] = model.ConvParams{Kernel: k, Bias: make([]float32, cout)}
	}
	dense := func(in, out int) model.DenseParams {
		k := make([]float32, in*out)
		for j := range k {
			k[j] = float32(rng.NormFloat64()) * 0.05
		}
		return model.DenseParams{In: in, Out: out, Kernel: k, Bias: make([]float32, out)}
	}
	m.Head = model.Head{Kind: model.HeadGAP, Dense: []model.DenseParams{dense(arch.Channels(), 256), dense(256, 10)}}
	return m
}
