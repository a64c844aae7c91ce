package nn

import (
	"math"

	"vggo/kernels"
)

func log(p float32) float64 { return math.Log(math.Max(float64(p), 1e-30)) }

// conv3x3BackwardData and conv3x3BackwardFilter are the kernels' backward
// convolutions (the bias gradient is its own op, biasGradOp).
func conv3x3BackwardData(n, h, w, cin, cout int, kernel, dout, din []float32) {
	kernels.Conv3x3BackwardData(n, h, w, cin, cout, kernel, dout, din)
}

func conv3x3BackwardFilter(n, h, w, cin, cout int, in, dout, dkernel []float32) {
	kernels.Conv3x3BackwardFilter(n, h, w, cin, cout, in, dout, dkernel, nil, false)
}
