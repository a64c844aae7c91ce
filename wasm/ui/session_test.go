package ui

import (
	"encoding/json"
	"testing"

	"vggo/wasm/protocol"
)

func reply(t *testing.T, kind string, id int, body any) workerReply {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return workerReply{Kind: kind, ID: id, Body: b}
}

// TestSessionUpdate walks a model session through the worker's replies:
// those of an earlier load and those about images are left to the page;
// progress, loaded and errors of the current load, or of the worker
// itself (id 0), move the state and call the page's hooks.
func TestSessionUpdate(t *testing.T) {
	var readyCalls int
	var failures []string
	s := modelSession{
		state: modelLoading, loadID: 7, entry: protocol.ModelEntry{Name: "m"},
		ready:  func() { readyCalls++ },
		failed: func(msg string) { failures = append(failures, msg) },
	}
	steps := []struct {
		name        string
		r           workerReply
		wantHandled bool
		wantState   string
	}{
		{"progress of an earlier load", reply(t, protocol.KindProgress, 3, protocol.Progress{Loaded: 1}), false, modelLoading},
		{"progress", reply(t, protocol.KindProgress, 7, protocol.Progress{Name: "m", Loaded: 5, Total: 10}), true, modelDownloading},
		{"an image's error", reply(t, protocol.KindError, 8, protocol.ErrorReply{Message: "cat.jpg: not an image"}), false, modelDownloading},
		{"an image's result", reply(t, protocol.KindResult, 8, protocol.Result{}), false, modelDownloading},
		{"loaded by an earlier load", reply(t, protocol.KindLoaded, 3, protocol.Loaded{Name: "old"}), false, modelDownloading},
		{"loaded", reply(t, protocol.KindLoaded, 7, protocol.Loaded{Name: "m", FromCache: true}), true, modelReady},
		{"the load's id after it is ready", reply(t, protocol.KindError, 7, protocol.ErrorReply{Message: "late"}), false, modelReady},
		{"the worker died", reply(t, protocol.KindError, 0, protocol.ErrorReply{Message: "worker gone"}), true, modelFailed},
	}
	for _, st := range steps {
		if got := s.update(st.r); got != st.wantHandled || s.state != st.wantState {
			t.Fatalf("%s: handled %v, state %q; want %v, %q", st.name, got, s.state, st.wantHandled, st.wantState)
		}
		if st.name == "progress" && (s.progress.Percent() != 50 || s.status("") != "") {
			t.Errorf("progress: %+v, status %q; want 50 %% and the page's own words", s.progress, s.status(""))
		}
		if st.name == "loaded" && (s.loaded.Name != "m" || s.source() != "cache" || readyCalls != 1) {
			t.Errorf("loaded: %+v from %q, %d ready calls", s.loaded, s.source(), readyCalls)
		}
	}
	if readyCalls != 1 || len(failures) != 1 || failures[0] != "worker gone" || s.status("") != "worker gone" {
		t.Errorf("ready %d times, failures %q, status %q", readyCalls, failures, s.status(""))
	}
}

func TestSessionStatus(t *testing.T) {
	s := modelSession{state: modelNone, entry: protocol.ModelEntry{Name: "fashion16"}}
	if got := s.status("Fetching…"); got != "Fetching…" {
		t.Errorf("no index: %q", got)
	}
	s.state = modelLoading
	if got := s.status("Fetching…"); got != "Loading fashion16…" {
		t.Errorf("loading: %q", got)
	}
	if s.source() != "" || !s.busy() {
		t.Errorf("loading: source %q, busy %v", s.source(), s.busy())
	}
	s.fail("no such model") // no hook set: a page that tells no one
	if got := s.status("Fetching…"); got != "no such model" || s.busy() {
		t.Errorf("failed: %q, busy %v", got, s.busy())
	}
}

// TestSavesMemory: the page's choice decides whether the workers pack the
// weights, the teach page never packs them, and automatic packs nothing
// where the browser does not report its memory (as here, natively).
func TestSavesMemory(t *testing.T) {
	big := protocol.ModelEntry{Name: "m", InputSize: 224}
	for _, c := range []struct {
		setting   string
		wholeBase bool
		want      bool
	}{
		{memorySave, false, true},
		{memoryNormal, false, false},
		{"", false, false},
		{memorySave, true, false},
	} {
		s := modelSession{memoryChoice: parseMemory(c.setting), wholeBase: c.wholeBase}
		if got := s.savesMemory(big); got != c.want {
			t.Errorf("choice %q, whole base %v: savesMemory = %v, want %v", c.setting, c.wholeBase, got, c.want)
		}
	}
	for in, want := range map[string]string{"save": memorySave, "normal": memoryNormal, "": "", "auto": "", "SAVE": "", "1": ""} {
		if got := parseMemory(in); got != want {
			t.Errorf("parseMemory(%q) = %q, want %q", in, got, want)
		}
	}
}
