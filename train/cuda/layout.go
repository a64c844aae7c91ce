package cuda

// cuDNN's NHWC convolutions want filters as KRSC ([Cout][3][3][Cin]); the
// project stores them HWIO ([3][3][Cin][Cout], model's layout). Parameters,
// gradients and Adam's moments of conv kernels live on the device as KRSC
// and are transposed on the way up and down, so checkpoints and model files
// stay the CPU path's.

// hwioToKRSC returns the HWIO kernel k as KRSC.
func hwioToKRSC(k []float32, cin, cout int) []float32 {
	out := make([]float32, len(k))
	for rs := 0; rs < 9; rs++ {
		for c := 0; c < cin; c++ {
			for o := 0; o < cout; o++ {
				out[(o*9+rs)*cin+c] = k[(rs*cin+c)*cout+o]
			}
		}
	}
	return out
}

// krscToHWIO is hwioToKRSC's inverse, writing into dst.
func krscToHWIO(k []float32, cin, cout int, dst []float32) {
	for rs := 0; rs < 9; rs++ {
		for c := 0; c < cin; c++ {
			for o := 0; o < cout; o++ {
				dst[(rs*cin+c)*cout+o] = k[(o*9+rs)*cin+c]
			}
		}
	}
}
