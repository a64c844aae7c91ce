package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"vggo/model"
	"vggo/wasm/protocol"
	"vggo/web"
)

// getIndex fetches /models and decodes it both as the server's type and
// with the client's parser (protocol.ParseIndex), so the JSON contract is
// checked from both ends.
func (s *testServer) getIndex(t *testing.T) (modelIndex, []protocol.ModelEntry, []protocol.ModelEntry) {
	t.Helper()
	s.settle(t)
	resp := s.get(t, "/models")
	body := readBody(t, resp)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("/models: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var idx modelIndex
	if err := json.Unmarshal(body, &idx); err != nil {
		t.Fatal(err)
	}
	usable, broken, err := protocol.ParseIndex(body)
	if err != nil {
		t.Fatalf("client cannot parse the index: %v\n%s", err, body)
	}
	return idx, usable, broken
}

// files lists the entries' file names, sorted (the client may reorder).
func files(entries []protocol.ModelEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.File)
	}
	slices.Sort(out)
	return out
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestModelsIndex(t *testing.T) {
	s := newTestServer(t)

	// Only the embedded default at first.
	idx, usable, broken := s.getIndex(t)
	if len(idx.Models) != 1 || len(broken) != 0 {
		t.Fatalf("initial index: %+v", idx)
	}
	d := idx.Models[0]
	want := modelEntry{
		Name: "default", File: "default.vggo.safetensors", URL: "/models/default.vggo.safetensors",
		Classes: []string{"cat", "dog"}, InputSize: 32, Bytes: int64(len(s.fixture.model)),
		SHA256: sha256Hex(s.fixture.model), Preprocess: "caffe", Head: "linear", Arch: "vgg16", WidthDiv: 16,
		Embedded: true,
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("default entry\n got %+v\nwant %+v", d, want)
	}
	if usable[0].Href() != want.URL || usable[0].InputSize != 32 || usable[0].SHA256 != want.SHA256 {
		t.Errorf("client view of the default: %+v", usable[0])
	}

	// Adding a file to -models shows up on the next request.
	birds := fixtureModel(t, []string{"crow", "finch", "wren"})
	s.writeModel(t, "birds.vggo.safetensors", birds)
	idx, usable, _ = s.getIndex(t)
	if got := files(usable); !slices.Equal(got, []string{"birds.vggo.safetensors", "default.vggo.safetensors"}) {
		t.Fatalf("after adding: %v", got)
	}
	b := idx.Models[1]
	if b.Name != "birds" || b.SHA256 != sha256Hex(birds) || b.Bytes != int64(len(birds)) ||
		!slices.Equal(b.Classes, []string{"crow", "finch", "wren"}) || b.Embedded || b.Error != "" {
		t.Errorf("birds entry %+v", b)
	}

	// Replacing it (new content, new mtime) updates hash and classes.
	fish := fixtureModel(t, []string{"cod", "eel"})
	p := s.writeModel(t, "birds.vggo.safetensors", fish)
	later := time.Now().Add(2 * time.Second)
	os.Chtimes(p, later, later)
	idx, _, _ = s.getIndex(t)
	if b := idx.Models[1]; b.SHA256 != sha256Hex(fish) || !slices.Equal(b.Classes, []string{"cod", "eel"}) {
		t.Errorf("after replacing: %+v", b)
	}
	// The download agrees with the index.
	resp := s.get(t, "/models/birds.vggo.safetensors")
	if body := readBody(t, resp); sha256Hex(body) != sha256Hex(fish) || resp.Header.Get("ETag") != `"`+sha256Hex(fish)+`"` {
		t.Errorf("download after replacing: ETag %s", resp.Header.Get("ETag"))
	}

	// A corrupt file is listed as an error, logged, and never crashes.
	s.writeModel(t, "broken.vggo.safetensors", []byte("this is not a safetensors file"))
	truncated := fish[:len(fish)/2]
	s.writeModel(t, "truncated.vggo.safetensors", truncated)
	s.writeModel(t, "plain.safetensors", []byte("\x02\x00\x00\x00\x00\x00\x00\x00{}")) // valid safetensors, not a vggo model
	idx, usable, broken = s.getIndex(t)
	if got := files(broken); !slices.Equal(got, []string{"broken.vggo.safetensors", "plain.safetensors", "truncated.vggo.safetensors"}) {
		t.Errorf("broken entries %v", got)
	}
	if got := files(usable); !slices.Equal(got, []string{"birds.vggo.safetensors", "default.vggo.safetensors"}) {
		t.Errorf("usable entries %v", got)
	}
	for _, e := range broken {
		if !strings.Contains(e.Error, e.File) || strings.Contains(e.Error, s.modelsDir) {
			t.Errorf("error of %s should name the file but not the server's directory: %q", e.File, e.Error)
		}
	}
	for _, e := range idx.Models {
		if e.File == "truncated.vggo.safetensors" && (e.SHA256 != sha256Hex(truncated) || e.Bytes != int64(len(truncated))) {
			t.Errorf("a broken file still has its size and hash: %+v", e)
		}
	}
	log := s.log.String()
	for _, f := range []string{"broken.vggo.safetensors", "truncated.vggo.safetensors", "plain.safetensors"} {
		if !strings.Contains(log, "model file listed with an error") || !strings.Contains(log, f) {
			t.Errorf("no log line for %s", f)
		}
	}
	// Logged once per file version, not on every request.
	s.getIndex(t)
	if n := strings.Count(s.log.String(), "broken.vggo.safetensors\",\"error"); n != 1 {
		t.Errorf("broken file logged %d times, want 1", n)
	}

	// Files that are not models are ignored; removed files disappear.
	s.writeModel(t, "notes.txt", []byte("hello"))
	s.writeModel(t, ".hidden.vggo.safetensors", birds)
	os.Mkdir(filepath.Join(s.modelsDir, "dir.vggo.safetensors"), 0o755)
	for _, f := range []string{"broken.vggo.safetensors", "truncated.vggo.safetensors", "plain.safetensors"} {
		os.Remove(filepath.Join(s.modelsDir, f))
	}
	idx, _, _ = s.getIndex(t)
	var got []string
	for _, e := range idx.Models {
		got = append(got, e.File)
	}
	if !slices.Equal(got, []string{"default.vggo.safetensors", "birds.vggo.safetensors"}) {
		t.Errorf("after removing: %v", got)
	}

	// A directory file named like an embedded one replaces it.
	s.writeModel(t, "default.vggo.safetensors", birds)
	idx, _, _ = s.getIndex(t)
	if len(idx.Models) != 2 || idx.Models[1].File != "default.vggo.safetensors" || idx.Models[1].Embedded || idx.Models[1].SHA256 != sha256Hex(birds) {
		t.Errorf("override: %+v", idx.Models)
	}
	resp = s.get(t, "/models/default.vggo.safetensors")
	if body := readBody(t, resp); sha256Hex(body) != sha256Hex(birds) {
		t.Errorf("override not served")
	}
}

func TestModelsIndexWithoutDir(t *testing.T) {
	f := newFixture(t)
	h := newHandler(config{WebFS: f.fs})
	s := &testServer{handler: h, fixture: f}
	idx, usable, _ := s.getIndex(t)
	if len(idx.Models) != 1 || len(usable) != 1 || !idx.Models[0].Embedded {
		t.Fatalf("index %+v", idx)
	}
	// The index revalidates with its ETag.
	resp := s.get(t, "/models")
	readBody(t, resp)
	tag := resp.Header.Get("ETag")
	resp = s.get(t, "/models", "If-None-Match", tag)
	if readBody(t, resp); tag == "" || resp.StatusCode != 304 {
		t.Errorf("If-None-Match on the index: %d (ETag %q)", resp.StatusCode, tag)
	}
}

// writeFixtureModel, with
//
//	go test ./server -run TestEmbeddedModelIsAValidModel -write-fixture-model
//
// (re)writes web/models/untrained-fixture.vggo.safetensors: the stand-in
// default model embedded until a trained default exists. Its weights are
// random (seeded) and its class names are Fashion-MNIST's, so the app can
// be exercised end to end; its name and provenance say it is untrained.
var writeFixtureModel = flag.Bool("write-fixture-model", false, "rewrite web/models/"+fixtureModelFile)

const fixtureModelFile = "untrained-fixture.vggo.safetensors"

var fashionMNISTClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// TestEmbeddedModelIsAValidModel checks every model committed under
// web/models with package model: the binary must not ship a broken default.
func TestEmbeddedModelIsAValidModel(t *testing.T) {
	if *writeFixtureModel {
		m := testModel(fashionMNISTClasses)
		m.Info.Provenance = map[string]string{
			"note":    "UNTRAINED: random weights, a placeholder until a trained default model exists",
			"command": "go test ./server -run TestEmbeddedModelIsAValidModel -write-fixture-model",
		}
		if err := model.WriteModelFile(filepath.Join("../web/models", fixtureModelFile), m, model.DTypeInt8); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir("../web/models")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if !isModelFileName(e.Name()) {
			continue
		}
		n++
		if _, err := model.ReadModelFile(filepath.Join("../web/models", e.Name())); err != nil {
			t.Errorf("embedded model: %v", err)
		}
	}
	if n == 0 {
		t.Errorf("no default model under web/models (write the fixture with -write-fixture-model)")
	}
	// The binary's index lists them without errors.
	h := newHandler(config{WebFS: web.FS})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/models", nil))
	usable, broken, err := protocol.ParseIndex(rec.Body.Bytes())
	if err != nil || len(broken) != 0 || len(usable) != n {
		t.Errorf("embedded index: %d usable, broken %+v, err %v", len(usable), broken, err)
	}
}

// TestModelsConcurrentChanges replaces a model file (atomically, as
// model.WriteModelFile does) while clients fetch the index and download the
// file: every download's bytes must match its ETag, and every index must
// parse. Run with -race to check the store's locking.
func TestModelsConcurrentChanges(t *testing.T) {
	s := newTestServer(t)
	versions := [][]byte{
		fixtureModel(t, []string{"a", "b"}),
		fixtureModel(t, []string{"c", "d", "e"}),
		randomBytes(50_000, 4), // a corrupt version in between
	}
	final := filepath.Join(s.modelsDir, "hot.vggo.safetensors")
	replace := func(data []byte) {
		tmp := filepath.Join(s.modelsDir, ".hot.tmp")
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			t.Error(err)
			return
		}
		if err := os.Rename(tmp, final); err != nil {
			t.Error(err)
		}
	}
	replace(versions[0])

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			replace(versions[i%len(versions)])
			time.Sleep(time.Millisecond)
		}
	})
	var downloads, indexes atomic.Int64
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp := s.get(t, "/models/hot.vggo.safetensors")
				body := readBody(t, resp)
				if resp.StatusCode == 200 {
					if tag := resp.Header.Get("ETag"); tag != `"`+sha256Hex(body)+`"` {
						t.Errorf("ETag %s does not match the %d bytes served", tag, len(body))
					}
					downloads.Add(1)
				}
				resp = s.get(t, "/models")
				if _, _, err := protocol.ParseIndex(readBody(t, resp)); err != nil {
					t.Errorf("index: %v", err)
				}
				indexes.Add(1)
			}
		})
	}
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	t.Logf("%d downloads and %d index requests during replacements", downloads.Load(), indexes.Load())
	if downloads.Load() == 0 {
		t.Errorf("no successful download")
	}
}

// TestModelsSameSizeAndMtime replaces a model by rename with one of the same
// size and the same mtime: the index must still see the new version.
func TestModelsSameSizeAndMtime(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file identity needs inodes")
	}
	s := newTestServer(t)
	a := fixtureModel(t, []string{"cat", "dog"})
	b := fixtureModel(t, []string{"cow", "pig"}) // same shapes, same size
	if len(a) != len(b) || sha256Hex(a) == sha256Hex(b) {
		t.Fatalf("fixtures: %d and %d bytes", len(a), len(b))
	}
	stamp := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	final := filepath.Join(s.modelsDir, "m.vggo.safetensors")
	for _, data := range [][]byte{a, b} {
		tmp := filepath.Join(s.modelsDir, ".m.tmp")
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(tmp, stamp, stamp)
		if err := os.Rename(tmp, final); err != nil {
			t.Fatal(err)
		}
		idx, _, _ := s.getIndex(t)
		if got := idx.Models[len(idx.Models)-1]; got.SHA256 != sha256Hex(data) {
			t.Errorf("index has %s for %v, want %s", got.SHA256, got.Classes, sha256Hex(data))
		}
	}
}
