package model

import (
	"path/filepath"
	"testing"
)

// The conv base loaded through every weight reader (torchvision .pth in
// three key layouts, safetensors, the Keras 1, Keras 2 and Keras 3 .h5
// layouts, and LoadWeights' dispatch) gives PyTorch's float64
// conv-base output and GAP vector within 1e-4 of max|reference|: the
// readers' layout conversions (OIHW → HWIO, Keras names and nesting) and
// the forward pass agree end to end.
func TestFeatureNetMatchesPyTorchThroughLoaders(t *testing.T) {
	arch := Arch{WidthDiv: 16}
	loaders := []struct {
		file string
		load func(string, Arch) (*ConvBase, error)
	}{
		{"vgg16_div16.pth", LoadTorch},
		{"vgg16_div16_full.pth", LoadTorch},
		{"vgg16_div16_module.pth", LoadTorch},
		{"vgg16_div16.safetensors", LoadSafetensors},
		{"vgg16_div16.pth", LoadWeights},
		{"vgg16_div16.safetensors", LoadWeights},
		{"keras/vgg16_div16_keras1.h5", LoadKerasH5},
		{"keras/vgg16_div16_keras1_no1.h5", LoadKerasH5},
		{"keras/vgg16_div16_keras2.h5", LoadKerasH5},
		{"keras/vgg16_div16.weights.h5", LoadKerasH5},
		{"keras/vgg16_div16_keras2.h5", LoadWeights},
	}
	for _, l := range loaders {
		t.Run(l.file, func(t *testing.T) {
			base, err := l.load(filepath.Join(weightsFixtureDir, l.file), arch)
			if err != nil {
				t.Fatal(err)
			}
			checkFeaturesAgainstReference(t, base, false)
		})
	}
}
