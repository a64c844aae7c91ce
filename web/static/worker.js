// worker.js starts the vggo inference worker: Go's wasm_exec.js glue (served
// by go-app at /wasm_exec.js) and worker.wasm, a Go program that answers the
// page's messages (see wasm/protocol). If the wasm cannot start, the page
// gets an error message instead of silence.
// A Worker named "relaxed" loads worker-relaxed.wasm, the relaxed-SIMD build
// the page picks where WebAssembly.validate accepts it (wasm/ui/workerclient.go).
"use strict";
importScripts("/wasm_exec.js");
const wasmURL = self.name === "relaxed" ? "/web/static/worker-relaxed.wasm" : "/web/static/worker.wasm";

(async () => {
  try {
    const go = new Go();
    const resp = fetch(wasmURL);
    let result;
    try {
      result = await WebAssembly.instantiateStreaming(resp, go.importObject);
    } catch (e) {
      // Servers or caches that lose the application/wasm type: fall back to bytes.
      const bytes = await (await fetch(wasmURL)).arrayBuffer();
      result = await WebAssembly.instantiate(bytes, go.importObject);
    }
    // The Go side reports its wasm memory (the loaded and bench replies).
    self.vggoWasmBytes = () => result.instance.exports.mem.buffer.byteLength;
    await go.run(result.instance);
    // go.run returns only when the Go program exits: a worker that stops
    // says so, so the page can replace it or shrink its pool.
    postMessage({ kind: "error", id: 0, body: JSON.stringify({ message: "the inference worker stopped" }) });
  } catch (e) {
    postMessage({ kind: "error", id: 0, body: JSON.stringify({ message: "the inference worker failed to start: " + e }) });
  }
})();
