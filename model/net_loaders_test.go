package model

import (
	"path/filepath"
	"testing"
)

// The conv base loaded through every weight reader gives PyTorch's float64
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
