//go:build js && wasm

// Command vggowasm is vggo's side of the browser peer benchmark: a GOOS=js
// GOARCH=wasm program that builds the benchmark network (bench/randnet:
// VGG16 + GAP + Dense 10, random weights) with model.NewNet and exposes
//
//	vggoRun(size, batch) → milliseconds of one Net.Forward
//
// to the page's JavaScript. Nets and inputs are built on first use per
// (size, batch) and kept, so the timed call is the forward pass alone (the
// kernels run on one thread under js: Go's wasm port has no threads).
package main

import (
	"fmt"
	"syscall/js"
	"time"

	"vggo/bench/randnet"
	"vggo/model"
)

type config struct{ size, batch int }

type prepared struct {
	net *model.Net
	x   []float32
}

var nets = map[config]*prepared{}

func run(size, batch int) (float64, error) {
	c := config{size, batch}
	p := nets[c]
	if p == nil {
		net, err := model.NewNet(randnet.Model(size, 1, 1))
		if err != nil {
			return 0, err
		}
		p = &prepared{net: net, x: randnet.Input(batch*size*size*3, 2)}
		nets[c] = p
	}
	start := time.Now()
	out := p.net.Forward(batch, p.x)
	ms := float64(time.Since(start).Nanoseconds()) / 1e6
	if len(out) != batch*randnet.Classes {
		return 0, fmt.Errorf("forward returned %d values, want %d", len(out), batch*randnet.Classes)
	}
	return ms, nil
}

func main() {
	js.Global().Set("vggoRun", js.FuncOf(func(this js.Value, args []js.Value) any {
		if len(args) != 2 {
			return js.Global().Get("Error").New("vggoRun(size, batch): want 2 arguments")
		}
		ms, err := run(args[0].Int(), args[1].Int())
		if err != nil {
			return js.Global().Get("Error").New(err.Error())
		}
		return ms
	}))
	js.Global().Set("vggoReady", true)
	select {}
}
