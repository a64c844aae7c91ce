package nn

import (
	"math"

	"vggo/kernels"
)

func log(p float32) float64 { return math.Log(math.Max(float64(p), 1e-30)) }

// shift copies src (N×H×W×C) into dst displaced by (dy, dx): dst[n,y,x] =
// src[n,y+dy,x+dx], zero where that falls outside.
func shift(n, h, w, c int, src, dst []float32, dy, dx int) {
	for b := 0; b < n; b++ {
		for y := 0; y < h; y++ {
			row := dst[((b*h+y)*w)*c : ((b*h+y)*w+w)*c]
			sy := y + dy
			if sy < 0 || sy >= h {
				clear(row)
				continue
			}
			for x := 0; x < w; x++ {
				sx := x + dx
				o := row[x*c : x*c+c]
				if sx < 0 || sx >= w {
					clear(o)
					continue
				}
				copy(o, src[((b*h+sy)*w+sx)*c:((b*h+sy)*w+sx)*c+c])
			}
		}
	}
}

// conv3x3BackwardData computes din = ∂L/∂in of a 3x3/1 same-padded
// convolution from dout and the HWIO kernel: for each tap (ky, kx),
// din[p] += dout[p − (ky−1, kx−1)] · K[ky,kx]ᵀ, as one GEMM per tap over a
// shifted copy of dout.
func conv3x3BackwardData(n, h, w, cin, cout int, kernel, dout, din []float32) {
	m := n * h * w
	shifted := make([]float32, m*cout)
	clear(din[:m*cin])
	for ky := 0; ky < 3; ky++ {
		for kx := 0; kx < 3; kx++ {
			shift(n, h, w, cout, dout, shifted, 1-ky, 1-kx)
			k := kernel[(ky*3+kx)*cin*cout : (ky*3+kx+1)*cin*cout] // [cin][cout]
			kernels.Gemm(false, true, m, cin, cout, shifted, cout, k, cout, din, cin, true)
		}
	}
}

// conv3x3BackwardFilter computes dkernel (HWIO) = Σ_p in[p + (ky−1, kx−1)]ᵀ ·
// dout[p], one GEMM per tap over a shifted copy of the input.
func conv3x3BackwardFilter(n, h, w, cin, cout int, in, dout, dkernel []float32) {
	m := n * h * w
	shifted := make([]float32, m*cin)
	for ky := 0; ky < 3; ky++ {
		for kx := 0; kx < 3; kx++ {
			shift(n, h, w, cin, in, shifted, ky-1, kx-1)
			dk := dkernel[(ky*3+kx)*cin*cout : (ky*3+kx+1)*cin*cout]
			kernels.Gemm(true, false, cin, cout, m, shifted, cin, dout, cout, dk, cout, false)
		}
	}
}
