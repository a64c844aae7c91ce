package nn

import (
	"fmt"
	"testing"

	"vggo/model"
)

// TestLeafInputHasNoGradient checks that the graph computes no input
// gradient for the first trainable conv layer, whose input is the batch:
// one "conv3x3-grad-data" op per trainable conv layer but the first, for a
// whole network and for a fine-tuned last block.
func TestLeafInputHasNoGradient(t *testing.T) {
	for _, c := range []struct{ boundary, wantData int }{{0, 12}, {10, 2}, {12, 0}} {
		t.Run(fmt.Sprintf("boundary=%d", c.boundary), func(t *testing.T) {
			spec := Spec{Arch: model.Arch{WidthDiv: 16}, InputSize: 32, Boundary: c.boundary, Head: model.HeadGAP, Hidden: []int{16}, Classes: 3}
			g, err := spec.Build(spec.InitParams(nil, 1), 2, true)
			if err != nil {
				t.Fatal(err)
			}
			ops := map[string]int{}
			for _, n := range g.X.Graph().AllNodes() {
				if n.Op() != nil {
					ops[n.Op().String()]++
				}
			}
			if got := ops["conv3x3-grad-data"]; got != c.wantData {
				t.Errorf("%d conv input-gradient ops, want %d (ops: %v)", got, c.wantData, ops)
			}
			if got := ops["conv3x3-grad-filter"]; got != 13-c.boundary {
				t.Errorf("%d conv kernel-gradient ops, want %d", got, 13-c.boundary)
			}
		})
	}
}
