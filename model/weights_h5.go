package model

import "fmt"

// loadKerasH5 is LoadWeights' route to the Keras .h5 reader.
// TODO([formats]): call LoadKerasH5 once [weights-h5] lands it.
func loadKerasH5(path string, arch Arch) (*ConvBase, error) {
	return nil, fmt.Errorf("%s: Keras HDF5 weights are not yet supported by LoadWeights", path)
}
