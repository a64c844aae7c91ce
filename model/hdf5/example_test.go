package hdf5_test

import (
	"fmt"
	"log"

	"vggo/model/hdf5"
)

// Reading a dataset and a string attribute from a file h5py wrote.
func ExampleOpen() {
	f, err := hdf5.Open("testdata/small.h5")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()

	names, err := f.Root().Attr("layer_names")
	if err != nil {
		log.Fatal(err)
	}
	list, err := names.Strings()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("layer_names:", list)

	d, err := f.Root().Dataset("g/d:0")
	if err != nil {
		log.Fatal(err)
	}
	values, err := d.Float32s()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Path(), d.Type, d.Shape, values)
	// Output:
	// layer_names: [x yy]
	// /g/d:0 float32 [2 2] [0 1 2 3]
}
