package weights

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/big"
	"os"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"

	"vggo/model"
	"vggo/model/safetensors"
)

// maxTorchPickle bounds data.pkl: a state dict's pickle holds only names and
// tensor descriptions (a few KB for VGG16); the weights live in data/N.
const maxTorchPickle = 64 << 20

// LoadTorch reads VGG16's conv base from a PyTorch file written by
// torch.save (the zip format of PyTorch ≥ 1.6: <name>/data.pkl plus one
// <name>/data/<key> record per storage). The pickle must be a state dict
// (OrderedDict or dict of tensors) of torchvision's vgg16().features
// ("features.N.weight") or of the whole model (features.* and classifier.*,
// the classifier is ignored), optionally with DataParallel's "module."
// prefix, or a checkpoint dict holding one under "state_dict" or "model".
// Kernels go from PyTorch's OIHW to HWIO; float16 and bfloat16 tensors are
// widened to float32. Every name and shape problem is reported together in
// one *model.ShapeError.
func LoadTorch(path string, arch model.Arch) (*model.ConvBase, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	tensors, err := readTorch(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return convBaseFromTorchNames(path, arch, tensors)
}

// torchStorage is a storage referenced by the pickle: the element type and
// the zip record holding its bytes.
type torchStorage struct {
	dtype safetensors.DType
	key   string
}

// torchStorageClass is one of torch.FloatStorage, torch.HalfStorage, ...
type torchStorageClass struct {
	name  string
	dtype safetensors.DType
}

// torchTensor is a tensor rebuilt from the pickle; its data is read only
// when needed.
type torchTensor struct {
	storage *torchStorage
	offset  int
	shape   []int
	stride  []int
}

var torchStorageTypes = map[string]safetensors.DType{
	"FloatStorage": safetensors.F32, "HalfStorage": safetensors.F16, "BFloat16Storage": safetensors.BF16,
	"DoubleStorage": safetensors.F64, "LongStorage": safetensors.I64, "IntStorage": safetensors.I32,
	"ShortStorage": safetensors.I16, "CharStorage": safetensors.I8, "ByteStorage": safetensors.U8,
	"BoolStorage": safetensors.BOOL,
}

// callFunc adapts a Go function to gopickle's Callable.
type callFunc func(args ...interface{}) (interface{}, error)

func (c callFunc) Call(args ...interface{}) (interface{}, error) { return c(args...) }

// torchFindClass resolves the only globals a state dict needs. Anything
// else (a pickled nn.Module, arbitrary code) is refused by name.
func torchFindClass(module, name string) (interface{}, error) {
	switch module + "." + name {
	case "torch._utils._rebuild_tensor_v2":
		return callFunc(rebuildTensor), nil
	case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
		return callFunc(func(args ...interface{}) (interface{}, error) {
			if len(args) < 1 {
				return nil, fmt.Errorf("_rebuild_parameter: no arguments")
			}
			return args[0], nil
		}), nil
	case "builtins.dict":
		return callFunc(func(args ...interface{}) (interface{}, error) { return types.NewDict(), nil }), nil
	}
	if module == "torch" {
		if dt, ok := torchStorageTypes[name]; ok {
			return &torchStorageClass{name: name, dtype: dt}, nil
		}
	}
	hint := ""
	if strings.HasPrefix(module, "torchvision.") || strings.HasPrefix(module, "torch.nn.") {
		hint = " (the file pickles a whole model object; save model.state_dict() instead)"
	}
	return nil, fmt.Errorf("unsupported pickled class %s.%s%s", module, name, hint)
}

func pickleInt(v interface{}) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case *big.Int:
		if x.IsInt64() && x.Int64() == int64(int(x.Int64())) {
			return int(x.Int64()), true
		}
	}
	return 0, false
}

func pickleInts(v interface{}) ([]int, bool) {
	t, ok := v.(*types.Tuple)
	if !ok {
		return nil, false
	}
	out := make([]int, t.Len())
	for i := range out {
		if out[i], ok = pickleInt(t.Get(i)); !ok || out[i] < 0 {
			return nil, false
		}
	}
	return out, true
}

// rebuildTensor is torch._utils._rebuild_tensor_v2(storage, storage_offset,
// size, stride, requires_grad, backward_hooks[, metadata]).
func rebuildTensor(args ...interface{}) (interface{}, error) {
	if len(args) < 4 {
		return nil, fmt.Errorf("_rebuild_tensor_v2: %d arguments, want at least 4", len(args))
	}
	st, ok := args[0].(*torchStorage)
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor_v2: first argument is not a storage")
	}
	offset, ok1 := pickleInt(args[1])
	shape, ok2 := pickleInts(args[2])
	stride, ok3 := pickleInts(args[3])
	if !ok1 || !ok2 || !ok3 || offset < 0 || len(shape) != len(stride) {
		return nil, fmt.Errorf("_rebuild_tensor_v2: bad offset, size or stride")
	}
	return &torchTensor{storage: st, offset: offset, shape: shape, stride: stride}, nil
}

// torchFile is an opened torch.save zip: its pickle's tensors by name.
type torchFile struct {
	r       io.ReaderAt
	size    int64
	records map[string]*zip.File // storage key → record
}

// readTorch opens the zip, unpickles data.pkl and returns its tensors.
func readTorch(r io.ReaderAt, size int64) (map[string]rawTensor, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		if legacyTorchMagic(r) {
			return nil, fmt.Errorf("legacy (pre-1.6, non-zip) torch.save format is not supported; re-save it with a current PyTorch")
		}
		return nil, fmt.Errorf("not a torch.save zip file: %v", err)
	}
	var pkl *zip.File
	tf := &torchFile{r: r, size: size, records: map[string]*zip.File{}}
	prefix := ""
	for _, zf := range zr.File {
		dir, base, _ := strings.Cut(zf.Name, "/")
		if base == "data.pkl" {
			if pkl != nil {
				return nil, fmt.Errorf("two data.pkl records in the zip")
			}
			pkl, prefix = zf, dir
		}
		if base == "constants.pkl" {
			return nil, fmt.Errorf("TorchScript archive (torch.jit.save) is not supported; save model.state_dict() with torch.save")
		}
	}
	if pkl == nil {
		return nil, fmt.Errorf("zip has no <name>/data.pkl record: not a torch.save file")
	}
	for _, zf := range zr.File {
		if key, ok := strings.CutPrefix(zf.Name, prefix+"/data/"); ok {
			tf.records[key] = zf
		}
	}
	if pkl.UncompressedSize64 > maxTorchPickle {
		return nil, fmt.Errorf("data.pkl is %d bytes, more than the %d-byte limit", pkl.UncompressedSize64, maxTorchPickle)
	}
	rc, err := pkl.Open()
	if err != nil {
		return nil, fmt.Errorf("data.pkl: %v", err)
	}
	p, err := io.ReadAll(io.LimitReader(rc, maxTorchPickle+1))
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("data.pkl: %v", err)
	}
	if err := checkPickle(p); err != nil {
		return nil, fmt.Errorf("data.pkl: %v", err)
	}
	obj, err := unpickle(p)
	if err != nil {
		return nil, fmt.Errorf("data.pkl: %v", err)
	}
	dict, err := stateDict(obj, 0)
	if err != nil {
		return nil, err
	}
	out := map[string]rawTensor{}
	for _, e := range dict {
		name, ok := e.Key.(string)
		if !ok {
			continue
		}
		t, ok := e.Value.(*torchTensor)
		if !ok {
			continue // e.g. num_batches_tracked stored as a plain int
		}
		out[name] = rawTensor{dtype: t.storage.dtype, shape: t.shape, read: func() ([]float32, error) { return tf.float32s(name, t) }}
	}
	return out, nil
}

// unpickle runs gopickle with torch's classes and storages, turning any
// panic inside the library on malformed input into an error.
func unpickle(p []byte) (obj interface{}, err error) {
	defer func() {
		if e := recover(); e != nil {
			obj, err = nil, fmt.Errorf("malformed pickle: %v", e)
		}
	}()
	u := pickle.NewUnpickler(bytes.NewReader(p))
	u.FindClass = torchFindClass
	storages := map[string]*torchStorage{}
	u.PersistentLoad = func(id interface{}) (interface{}, error) {
		t, ok := id.(*types.Tuple)
		if !ok || t.Len() < 5 {
			return nil, fmt.Errorf("persistent id %v is not a storage tuple", id)
		}
		kind, _ := t.Get(0).(string)
		class, ok1 := t.Get(1).(*torchStorageClass)
		key, ok2 := t.Get(2).(string)
		if kind != "storage" || !ok1 || !ok2 {
			return nil, fmt.Errorf("persistent id %v is not a storage tuple", id)
		}
		if s, ok := storages[key]; ok {
			return s, nil
		}
		s := &torchStorage{dtype: class.dtype, key: key}
		storages[key] = s
		return s, nil
	}
	return u.Load()
}

type dictEntry struct{ Key, Value interface{} }

// stateDict finds the name→tensor mapping in the unpickled object. depth
// bounds the descent into checkpoint dicts (a pickle can hold cycles).
func stateDict(obj interface{}, depth int) ([]dictEntry, error) {
	if depth > 4 {
		return nil, fmt.Errorf("state dict nested more than 4 levels deep")
	}
	var entries []dictEntry
	switch d := obj.(type) {
	case *types.OrderedDict:
		for el := d.List.Front(); el != nil; el = el.Next() {
			e := el.Value.(*types.OrderedDictEntry)
			entries = append(entries, dictEntry{e.Key, e.Value})
		}
	case *types.Dict:
		for _, e := range *d {
			entries = append(entries, dictEntry{e.Key, e.Value})
		}
	default:
		return nil, fmt.Errorf("pickle holds a %T, not a state dict", obj)
	}
	// A training checkpoint: {"state_dict": {...}, "epoch": ...}.
	for _, e := range entries {
		if k, _ := e.Key.(string); k == "state_dict" || k == "model" {
			switch e.Value.(type) {
			case *types.OrderedDict, *types.Dict:
				return stateDict(e.Value, depth+1)
			}
		}
	}
	return entries, nil
}

// float32s reads tensor t (named name) from its storage record, checking
// the record's bounds and CRC, and converts it to float32 in row-major order.
func (tf *torchFile) float32s(name string, t *torchTensor) ([]float32, error) {
	zf, ok := tf.records[t.storage.key]
	if !ok {
		return nil, fmt.Errorf("%s: storage record data/%s missing from the zip", name, t.storage.key)
	}
	if zf.Method != zip.Store {
		return nil, fmt.Errorf("%s: storage record data/%s is compressed (method %d); torch.save writes it uncompressed", name, t.storage.key, zf.Method)
	}
	es := int64(t.storage.dtype.Size())
	n := int64(1)
	last := int64(t.offset) // largest element index the tensor touches
	for i, d := range t.shape {
		if d == 0 {
			n, last = 0, -1
			break
		}
		if int64(d) > tf.size/n || int64(t.stride[i]) > tf.size || last > tf.size {
			return nil, fmt.Errorf("%s: shape %v / stride %v larger than the file", name, t.shape, t.stride)
		}
		n *= int64(d)
		last += int64(d-1) * int64(t.stride[i])
	}
	if n > tf.size || last > tf.size {
		return nil, fmt.Errorf("%s: shape %v / stride %v larger than the file", name, t.shape, t.stride)
	}
	recSize := int64(zf.UncompressedSize64)
	start, err := zf.DataOffset()
	if err != nil {
		return nil, fmt.Errorf("%s: storage record data/%s: %v", name, t.storage.key, err)
	}
	if recSize < 0 || start < 0 || recSize > tf.size-start || zf.CompressedSize64 != zf.UncompressedSize64 {
		return nil, fmt.Errorf("%s: storage record data/%s runs past the end of the file (truncated)", name, t.storage.key)
	}
	if (last+1)*es > recSize {
		return nil, fmt.Errorf("%s: tensor needs %d bytes of storage data/%s, which has %d", name, (last+1)*es, t.storage.key, recSize)
	}
	raw := make([]byte, recSize)
	if _, err := tf.r.ReadAt(raw, start); err != nil {
		return nil, fmt.Errorf("%s: reading storage data/%s: %v", name, t.storage.key, err)
	}
	if crc32.ChecksumIEEE(raw) != zf.CRC32 {
		return nil, fmt.Errorf("%s: storage data/%s fails its CRC-32 check (corrupt file)", name, t.storage.key)
	}
	out := make([]float32, n)
	if n == 0 {
		return out, nil
	}
	if contiguous(t.shape, t.stride) {
		return out, safetensors.ToFloat32(t.storage.dtype, raw[int64(t.offset)*es:(int64(t.offset)+n)*es], out)
	}
	// Strided view: gather element by element.
	one := make([]float32, 1)
	idx := make([]int, len(t.shape))
	for k := range out {
		pos := t.offset
		for i := range idx {
			pos += idx[i] * t.stride[i]
		}
		if err := safetensors.ToFloat32(t.storage.dtype, raw[int64(pos)*es:int64(pos+1)*es], one); err != nil {
			return nil, err
		}
		out[k] = one[0]
		for i := len(idx) - 1; i >= 0; i-- {
			if idx[i]++; idx[i] < t.shape[i] {
				break
			}
			idx[i] = 0
		}
	}
	return out, nil
}

func contiguous(shape, stride []int) bool {
	want := 1
	for i := len(shape) - 1; i >= 0; i-- {
		if shape[i] != 1 && stride[i] != want {
			return false
		}
		want *= shape[i]
	}
	return true
}

// legacyTorchMagic reports whether r starts like a pre-1.6 torch.save file
// (a bare pickle: protocol opcode 0x80 then the magic number as a LONG1).
func legacyTorchMagic(r io.ReaderAt) bool {
	var b [2]byte
	if _, err := r.ReadAt(b[:], 0); err != nil && !errors.Is(err, io.EOF) {
		return false
	}
	return b[0] == 0x80 && b[1] == 0x02
}
