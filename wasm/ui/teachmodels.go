package ui

import (
	"encoding/json"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"vggo/wasm/protocol"
)

// savedLocalModels are the models made or imported on the teach page: their
// files live in the worker's model cache (under protocol.LocalModelPrefix
// URLs), their index entries here, in localStorage. Every model picker
// lists them after the server's.
func savedLocalModels(ctx app.Context) []protocol.ModelEntry {
	var raw string
	ctx.LocalStorage().Get(localModelsKey, &raw)
	var out []protocol.ModelEntry
	if raw != "" {
		json.Unmarshal([]byte(raw), &out)
	}
	usable := out[:0]
	for _, e := range out {
		if protocol.IsSHA256Hex(e.SHA256) && e.URL != "" {
			usable = append(usable, e)
		}
	}
	return usable
}

// saveLocalModelEntry adds (or replaces, by SHA-256) a local model's entry.
func saveLocalModelEntry(ctx app.Context, e protocol.ModelEntry) {
	list := savedLocalModels(ctx)
	kept := list[:0]
	for _, m := range list {
		if m.SHA256 != e.SHA256 {
			kept = append(kept, m)
		}
	}
	b, _ := json.Marshal(append(kept, e))
	ctx.LocalStorage().Set(localModelsKey, string(b))
}
