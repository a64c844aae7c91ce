package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vggo/internal/headless"
	"vggo/model"
	"vggo/wasm/inference"
)

// Chromium is the browser the tests drive; VGGO_CHROMIUM overrides it.
var chromium = headless.DefaultPath

// fashionClasses are Fashion-MNIST's class names, in label order.
var fashionClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// fixture is what TestMain prepares for every test.
var fixture struct {
	dir       string // temporary directory for everything
	server    string // built vggo-server binary
	modelsDir string // -models directory with the fixture model
	modelPath string
	artifacts string            // screenshots
	images    map[string]string // name → path of test images
	net       *model.Net        // native reference
}

func TestMain(m *testing.M) {
	code, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e setup:", err)
		os.Exit(1)
	}
	if code == 0 {
		code = m.Run()
	}
	if fixture.dir != "" {
		os.RemoveAll(fixture.dir)
	}
	os.Exit(code)
}

// setup builds the wasm programs into web/static (so the server embeds the
// fresh ones) and the server binary, and writes the fixture model and
// images. A missing chromium is an error: CI installs it.
func setup() (int, error) {
	if p := os.Getenv("VGGO_CHROMIUM"); p != "" {
		chromium = p
	}
	if _, err := os.Stat(chromium); err != nil {
		return 1, fmt.Errorf("chromium not found at %s (install Debian's chromium, or set VGGO_CHROMIUM): %v", chromium, err)
	}
	dir, err := os.MkdirTemp("", "vggo-e2e-")
	if err != nil {
		return 1, err
	}
	fixture.dir = dir
	root, err := repoRoot()
	if err != nil {
		return 1, err
	}
	start := time.Now()
	build := exec.Command("bash", "scripts/build-wasm.sh")
	build.Dir = root
	build.Env = append(os.Environ(), "BROTLI_QUALITY=4")
	if out, err := build.CombinedOutput(); err != nil {
		return 1, fmt.Errorf("scripts/build-wasm.sh: %v\n%s", err, out)
	}
	fixture.server = filepath.Join(dir, "vggo-server")
	// VGGO_E2E_SERVER_PKG builds another package as the server (a local
	// variant while developing); the default is the real one.
	serverPkg := os.Getenv("VGGO_E2E_SERVER_PKG")
	if serverPkg == "" {
		serverPkg = "./server"
	}
	gobuild := exec.Command("go", "build", "-o", fixture.server, serverPkg)
	gobuild.Dir = root
	if out, err := gobuild.CombinedOutput(); err != nil {
		return 1, fmt.Errorf("go build %s: %v\n%s", serverPkg, err, out)
	}
	fmt.Fprintf(os.Stderr, "e2e: built wasm and server in %v\n", time.Since(start).Round(time.Millisecond))

	fixture.artifacts = os.Getenv("VGGO_ARTIFACTS")
	if fixture.artifacts == "" {
		fixture.artifacts = filepath.Join(dir, "artifacts")
	}
	if err := os.MkdirAll(fixture.artifacts, 0o755); err != nil {
		return 1, err
	}
	fixture.modelsDir = filepath.Join(dir, "models")
	os.MkdirAll(fixture.modelsDir, 0o755)
	m := inference.RandomModel(32, 16, 42)
	m.Info.Classes = fashionClasses
	m.Info.Provenance = map[string]string{"dataset": "none: random weights for the e2e test"}
	fixture.modelPath = filepath.Join(fixture.modelsDir, "fashion16.vggo.safetensors")
	if err := model.WriteModelFile(fixture.modelPath, m, "int8"); err != nil {
		return 1, err
	}
	// A second model, tampered with after the server indexed it (see
	// tamperModel), stands for a corrupt download.
	m.Info.Classes = append([]string(nil), fashionClasses...)
	m.Info.Classes[0] = "tampered"
	if err := model.WriteModelFile(filepath.Join(fixture.modelsDir, "tampered.vggo.safetensors"), m, "int8"); err != nil {
		return 1, err
	}
	// One that is only ever downloaded through the throttling proxy, to
	// watch the progress bar.
	m.Info.Classes[0] = "slow"
	if err := model.WriteModelFile(filepath.Join(fixture.modelsDir, "slow16.vggo.safetensors"), m, "int8"); err != nil {
		return 1, err
	}
	// A fourth, which the throttling proxy cuts off halfway.
	m.Info.Classes[0] = "truncated"
	if err := model.WriteModelFile(filepath.Join(fixture.modelsDir, "truncated.vggo.safetensors"), m, "int8"); err != nil {
		return 1, err
	}
	back, err := model.ReadModelFile(fixture.modelPath)
	if err != nil {
		return 1, err
	}
	if fixture.net, err = model.NewNet(back); err != nil {
		return 1, err
	}
	return 0, writeImages(dir)
}

// writeImages writes the test images: a Fashion-MNIST test image as PNG
// (Debian's dataset-fashion-mnist), a synthetic colour photo, a corrupt PNG
// and a text file.
func writeImages(dir string) error {
	fixture.images = map[string]string{}
	write := func(name string, data []byte) error {
		p := filepath.Join(dir, name)
		fixture.images[name] = p
		return os.WriteFile(p, data, 0o644)
	}
	boot, err := fashionImage(0)
	if err != nil {
		return err
	}
	if err := write("fashion-0.png", boot); err != nil {
		return err
	}
	img := image.NewRGBA(image.Rect(0, 0, 120, 90))
	for y := 0; y < 90; y++ {
		for x := 0; x < 120; x++ {
			img.Set(x, y, color.RGBA{uint8(2 * x), uint8(255 - 2*y), uint8((x * y) % 256), 255})
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	photo := buf.Bytes()
	if err := write("gradient.png", photo); err != nil {
		return err
	}
	if err := write("corrupt.png", append(append([]byte(nil), photo[:40]...), bytes.Repeat([]byte{0xde, 0xad}, 50)...)); err != nil {
		return err
	}
	if err := write("notes.txt", []byte("these are notes, not an image\n")); err != nil {
		return err
	}
	// 65 MB, over the 64 MB limit on image files (sparse: nothing is written).
	huge := filepath.Join(dir, "huge.jpg")
	fixture.images["huge.jpg"] = huge
	f, err := os.Create(huge)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Truncate(65 << 20)
}

// tamperModel flips one byte near the end of a model file (tensor data) in
// place, keeping its size and modification time, so the server, which
// re-hashes a file only when those change, keeps announcing the old SHA-256
// while serving different bytes: exactly what a corrupted download looks
// like to the browser.
func tamperModel(t testing.TB, path string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-3] ^= 0x5a
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
}

// fashionImage returns test image i of Fashion-MNIST as a PNG.
func fashionImage(i int) ([]byte, error) {
	const path = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("Fashion-MNIST (Debian package dataset-fashion-mnist): %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r := bufio.NewReader(zr)
	header := make([]byte, 16)
	if _, err := io.ReadFull(r, header); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := r.Discard(i * 28 * 28); err != nil {
		return nil, err
	}
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	if _, err := io.ReadFull(r, img.Pix); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var buf bytes.Buffer
	err = png.Encode(&buf, img)
	return buf.Bytes(), err
}

func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}
