package model

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"vggo/model/safetensors"
)

// The __metadata__ keys of a vggo model file (all values are strings, as
// safetensors demands). Provenance entries are "provenance.<key>".
const (
	metaFormat        = "format" // always "vggo"
	metaFormatVersion = "format_version"
	metaArch          = "arch"
	metaInputSize     = "input_size"
	metaWidthDiv      = "width_div"
	metaBaseLayers    = "base_layers" // optional (format version 2): conv layers used, when fewer than 13
	metaHead          = "head"
	metaClasses       = "classes" // JSON array of strings
	metaPreprocess    = "preprocess"
	metaDType         = "weights_dtype"
	metaDescription   = "description"  // optional: one line on what the model was trained on
	metaFlipAverage   = "flip_average" // optional: "true" when each image is averaged with its mirror image
	metaProvenance    = "provenance."
	formatName        = "vggo"
)

// Info is what a vggo model file says about itself (its metadata); ReadInfo
// gets it from the header alone.
type Info struct {
	FormatVersion int               // file format version (ModelFormatVersion when written)
	Arch          string            // "vgg16"
	InputSize     int               // square input side in pixels, a multiple of 32
	WidthDiv      int               // channel divisor (1 = real VGG16), see Arch
	BaseLayers    int               // conv layers the model uses, 1..13; 0 (or 13): the whole base (Arch.Layers)
	Head          string            // HeadSeed, HeadGAP or HeadLinear
	Classes       []string          // class names, in output order
	Preprocess    string            // PreprocessCaffe or PreprocessTorch (preprocess.go)
	Description   string            // one line for users: what pictures the model knows (optional)
	FlipAverage   bool              // classify each image and its mirror image and average the probabilities (Net.Forward)
	Provenance    map[string]string // free-form: dataset, accuracy, date, command line, ...
	DType         string            // kernel encoding in the file: int8, float16 or float32 (set when read)
	Bytes         int64             // file size (set when read)
	SHA256        string            // hex SHA-256 of the whole file (set by ReadModel and ReadModelFile; ReadInfo leaves it empty)
}

// Validate checks the description itself, before any weight is looked at:
// architecture, width divisor (Arch.Validate), input size
// (ValidateInputSize), head kind (ValidateHead), preprocessing mode, weight encoding (when
// set; it is set when read from a file) and class names. Every problem is
// named in one error; model files, Model.Check and the trainer all use it,
// so they agree on what a valid model is and say it the same way.
func (in Info) Validate() error {
	var p []string
	if in.Arch != "vgg16" {
		p = append(p, fmt.Sprintf("architecture %q: want vgg16", in.Arch))
	}
	if err := in.ModelArch().Validate(); err != nil {
		p = append(p, err.Error())
	}
	if err := ValidateInputSize(in.InputSize); err != nil {
		p = append(p, err.Error())
	}
	if err := ValidateHead(in.Head); err != nil {
		p = append(p, err.Error())
	}
	if in.Preprocess != PreprocessCaffe && in.Preprocess != PreprocessTorch {
		p = append(p, fmt.Sprintf("preprocessing mode %q: want caffe or torch", in.Preprocess))
	}
	if in.DType != "" && in.DType != DTypeInt8 && in.DType != DTypeFloat16 && in.DType != DTypeFloat32 {
		p = append(p, fmt.Sprintf("weights dtype %q: want int8, float16 or float32", in.DType))
	}
	if len(in.Classes) == 0 {
		p = append(p, "no class names")
	}
	for i, c := range in.Classes {
		if c == "" {
			p = append(p, fmt.Sprintf("class %d: empty name", i))
		}
	}
	if len(p) > 0 {
		return fmt.Errorf("invalid model metadata: %s", strings.Join(p, "; "))
	}
	return nil
}

// ModelArch is the VGG16 variant the description names.
func (in Info) ModelArch() Arch { return Arch{WidthDiv: in.WidthDiv, Layers: in.BaseLayers} }

// ReadInfo reads a model file's description from its header only: the
// 8-byte header length and the JSON header, never the tensor data, so it
// costs the same for any model size. Info.Bytes is the file size;
// Info.SHA256 is left empty (FileSHA256 hashes a file; ReadModelFile sets
// it as it reads the whole file).
func ReadInfo(path string) (Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return Info{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Info{}, err
	}
	return ReadModelInfo(f, st.Size(), path)
}

// ReadModelInfo is ReadInfo for size bytes of r (an embedded or downloaded
// file): header only, Info.SHA256 empty; name is used in error messages.
func ReadModelInfo(r io.ReaderAt, size int64, name string) (Info, error) {
	h, err := safetensors.ReadHeader(r, size)
	if err != nil {
		return Info{}, fmt.Errorf("%s: %w", name, err)
	}
	info, err := parseInfo(h.Metadata)
	if err != nil {
		return Info{}, fmt.Errorf("%s: %w", name, err)
	}
	info.Bytes = size
	return info, nil
}

// parseInfo reads the vggo metadata, naming every missing field at once.
func parseInfo(md map[string]string) (Info, error) {
	if md[metaFormat] != formatName {
		return Info{}, fmt.Errorf("not a vggo model file: safetensors without format=%q metadata (a plain weight file? use weights.Load)", formatName)
	}
	var missing []string
	for _, k := range []string{metaFormatVersion, metaArch, metaInputSize, metaWidthDiv, metaHead, metaClasses, metaPreprocess, metaDType} {
		if md[k] == "" {
			missing = append(missing, k)
		}
	}
	// A newer version may legitimately lack or rename fields: say that first.
	version, verr := strconv.Atoi(md[metaFormatVersion])
	if _, ok := md[metaFormatVersion]; ok && verr != nil {
		return Info{}, fmt.Errorf("metadata format_version %q is not a number", md[metaFormatVersion])
	}
	if version > ModelFormatVersion {
		return Info{}, fmt.Errorf("model format version %d is newer than this vggo supports (%d); update vggo", version, ModelFormatVersion)
	}
	if len(missing) > 0 {
		return Info{}, fmt.Errorf("model file metadata lacks %s", strings.Join(missing, ", "))
	}
	if version < 1 {
		return Info{}, fmt.Errorf("model format version %d is invalid", version)
	}
	info := Info{FormatVersion: version, Arch: md[metaArch], Head: md[metaHead], Preprocess: md[metaPreprocess], DType: md[metaDType],
		Description: md[metaDescription]}
	switch md[metaFlipAverage] {
	case "", "false":
	case "true":
		info.FlipAverage = true
	default:
		return Info{}, fmt.Errorf("metadata flip_average %q: want true or false", md[metaFlipAverage])
	}
	var err error
	if info.InputSize, err = strconv.Atoi(md[metaInputSize]); err != nil {
		return Info{}, fmt.Errorf("metadata input_size %q is not a number", md[metaInputSize])
	}
	if info.WidthDiv, err = strconv.Atoi(md[metaWidthDiv]); err != nil {
		return Info{}, fmt.Errorf("metadata width_div %q is not a number", md[metaWidthDiv])
	}
	if v, ok := md[metaBaseLayers]; ok {
		if version < 2 {
			return Info{}, fmt.Errorf("metadata base_layers needs format version 2, the file says %d", version)
		}
		if info.BaseLayers, err = strconv.Atoi(v); err != nil || info.BaseLayers < 1 {
			return Info{}, fmt.Errorf("metadata base_layers %q: want a number of conv layers, 1..%d", v, ConvLayers)
		}
	}
	if err := json.Unmarshal([]byte(md[metaClasses]), &info.Classes); err != nil {
		return Info{}, fmt.Errorf("metadata classes is not a JSON array of strings: %v", err)
	}
	if err := info.Validate(); err != nil {
		return Info{}, err
	}
	for k, v := range md {
		if p, ok := strings.CutPrefix(k, metaProvenance); ok {
			if info.Provenance == nil {
				info.Provenance = map[string]string{}
			}
			info.Provenance[p] = v
		}
	}
	return info, nil
}
