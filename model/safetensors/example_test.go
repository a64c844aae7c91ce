package safetensors_test

import (
	"bytes"
	"fmt"

	"vggo/model/safetensors"
)

// A round trip through memory: write one float16 tensor with metadata,
// read it back and widen it to float32.
func Example() {
	half := []byte{}
	for _, v := range []float32{1, -0.5, 65504} {
		h := safetensors.Float32ToFloat16(v)
		half = append(half, byte(h), byte(h>>8))
	}
	var buf bytes.Buffer
	err := safetensors.Write(&buf, []safetensors.Tensor{
		{Name: "w", DType: safetensors.F16, Shape: []int{3}, Data: half},
	}, map[string]string{"format": "pt"})
	if err != nil {
		panic(err)
	}
	f, err := safetensors.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		panic(err)
	}
	w, _ := f.Tensor("w")
	values, _ := w.Float32s()
	fmt.Println(f.Metadata["format"], w.DType, w.Shape, values)
	// Output: pt F16 [3] [1 -0.5 65504]
}
