package model

// Reading a vggo model file: the whole file in one pass that also hashes it.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"os"
	"slices"
	"sort"

	"vggo/kernels"
	"vggo/model/safetensors"
)

// ReadModelFile reads and validates a vggo model file.
func ReadModelFile(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return ReadModel(f, st.Size(), path)
}

// ReadModel reads and validates a vggo model file of size bytes from r;
// name is used in error messages. It reads r once, start to end, and
// hashes the bytes as they come for Info.SHA256. It uses no
// operating-system services, so the browser client calls it on downloaded
// bytes.
func ReadModel(r io.ReaderAt, size int64, name string) (*Model, error) {
	m, err := readModel(r, size, nil)
	if err != nil {
		return nil, namedReadError(err, name)
	}
	return m, nil
}

// ReadShard reads a vggo model file as ReadModel does and builds shard
// index of count of its network (TakeShardWith), keeping of each conv
// layer only the shard's output channels from the moment the layer is
// read: the whole float32 conv base is never in memory, only one layer of
// it at a time, so n inference workers reading the same file hold about
// one copy of the base between them, not n (the layers of the blocks
// passes may split by rows or images, ShardOptions.RowBlocks and
// ImageBlocks, each reads whole: automatically at most blocks 1-2, 2 % of
// VGG16's weights). The Shard equals
// TakeShardWith's on ReadModel's Model bit for bit; the returned Info is
// the file's (the Model is not kept).
func ReadShard(r io.ReaderAt, size int64, name string, index, count int, opts ShardOptions) (*Shard, Info, error) {
	if count < 1 || index < 0 || index >= count {
		return nil, Info{}, fmt.Errorf("%s: shard %d of %d: want 0 <= shard < count", name, index, count)
	}
	var cut channelCut
	m, err := readModel(r, size, func(info Info) channelCut {
		cut = shardCut(info.ModelArch(), info.InputSize, index, count, opts)
		return cut
	})
	if err != nil {
		return nil, Info{}, namedReadError(err, name)
	}
	s, err := newShard(m, index, count, true, opts, cut)
	if err != nil {
		return nil, Info{}, fmt.Errorf("%s: %w", name, err)
	}
	return s, m.Info, nil
}

// namedReadError puts the file's name into a read error.
func namedReadError(err error, name string) error {
	var se *ShapeError
	if errors.As(err, &se) {
		se.File = name
		return se
	}
	return fmt.Errorf("%s: %w", name, err)
}

// FileSHA256 returns the lower-case hex SHA-256 of a whole file: the hash
// ReadModelFile puts in Info.SHA256, for callers that read only the header
// (ReadInfo) or nothing at all.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashingReaderAt hashes what is read through it, as long as the reads run
// in order from offset 0 without gaps, as safetensors.Read's do (length,
// header, data), so a model file is hashed in the pass that reads it.
type hashingReaderAt struct {
	r    io.ReaderAt
	h    hash.Hash
	next int64 // offset up to which h has seen the file; -1 once reads skipped
}

func (hr *hashingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := hr.r.ReadAt(p, off)
	if off != hr.next {
		hr.next = -1
	} else if hr.next >= 0 {
		hr.h.Write(p[:n])
		hr.next += int64(n)
	}
	return n, err
}

// sum returns the hex SHA-256 of the first size bytes, or an error if the
// reads did not cover exactly them in order.
func (hr *hashingReaderAt) sum(size int64) (string, error) {
	if hr.next != size {
		return "", fmt.Errorf("internal error: the model file was not read in one sequential pass, so it cannot be hashed")
	}
	return hex.EncodeToString(hr.h.Sum(nil)), nil
}

// channelCut gives the output channels [lo, hi) that a model's conv
// layer holds (a shard read by ReadShard), by layer index.
type channelCut func(layer int) (lo, hi int)

// shardCut is the channels shard index of count reads of each conv layer
// of a network of arch at input size: all of them in the blocks it may
// split by rows or images (wholeBlockEnds), its ShardChannels elsewhere.
func shardCut(arch Arch, size, index, count int, opts ShardOptions) channelCut {
	whole := 0 // layers [0, whole) are in those blocks
	if ends, _ := wholeBlockEnds(arch, size, count, opts); len(ends) > 0 {
		whole = ends[len(ends)-1] + 1
	}
	return func(layer int) (lo, hi int) {
		c := arch.Conv(layer).Cout
		if layer < whole {
			return 0, c
		}
		return ShardChannels(c, count, index)
	}
}

// readModel reads the file; with cutFor, each conv layer keeps only the
// output channels that the cut cutFor returns for the file's Info gives,
// cut as soon as it is read.
func readModel(r io.ReaderAt, size int64, cutFor func(Info) channelCut) (*Model, error) {
	hr := &hashingReaderAt{r: r, h: sha256.New()}
	f, err := safetensors.Read(hr, size)
	if err != nil {
		return nil, err
	}
	info, err := parseInfo(f.Metadata)
	if err != nil {
		return nil, err
	}
	info.Bytes = size
	if info.SHA256, err = hr.sum(size); err != nil {
		return nil, err
	}
	m := &Model{Info: info, Base: ConvBase{Arch: info.ModelArch()}, Head: Head{Kind: info.Head}}
	var cut channelCut
	if cutFor != nil {
		cut = cutFor(info)
	}
	// Shapes come from the file; Check below validates them against the
	// architecture and the class list.
	var problems []string
	used := map[string]bool{}
	get := func(name string) (safetensors.Tensor, bool) {
		t, ok := f.Tensor(name)
		if !ok {
			problems = append(problems, name+": missing")
		}
		used[name] = true
		return t, ok
	}
	floats := func(t safetensors.Tensor, wantShape []int) []float32 {
		if !slices.Equal(t.Shape, wantShape) {
			problems = append(problems, fmt.Sprintf("%s: shape %v, want %v", t.Name, t.Shape, wantShape))
			return nil
		}
		switch t.DType {
		case safetensors.F32, safetensors.F16, safetensors.BF16:
			v, _ := t.Float32s()
			return v
		}
		problems = append(problems, fmt.Sprintf("%s: dtype %s, want F32, F16 or BF16", t.Name, t.DType))
		return nil
	}
	kernel := func(name string, shape []int) []float32 {
		t, ok := get(name + ".kernel")
		if !ok {
			return nil
		}
		if t.DType != safetensors.I8 {
			return floats(t, shape)
		}
		st, ok := get(name + ".kernel_scale")
		if !ok {
			return nil
		}
		cout := shape[len(shape)-1]
		if cout == 0 {
			problems = append(problems, fmt.Sprintf("%s: shape %v has no output channels", t.Name, t.Shape))
			return nil
		}
		scales := floats(st, []int{cout})
		if !slices.Equal(t.Shape, shape) {
			problems = append(problems, fmt.Sprintf("%s: shape %v, want %v", t.Name, t.Shape, shape))
			return nil
		}
		if scales == nil {
			return nil
		}
		for i, s := range scales {
			if !(s >= 0) || math.IsInf(float64(s), 0) {
				problems = append(problems, fmt.Sprintf("%s[%d] = %g, want a finite scale ≥ 0", st.Name, i, s))
				return nil
			}
		}
		q := make([]int8, len(t.Data))
		for i, b := range t.Data {
			q[i] = int8(b)
		}
		w := make([]float32, len(q))
		kernels.DequantizeInt8(q, scales, w)
		return w
	}
	bias := func(name string, n int) []float32 {
		if t, ok := get(name + ".bias"); ok {
			return floats(t, []int{n})
		}
		return nil
	}
	for i := range m.Base.Arch.Depth() {
		s := m.Base.Arch.Conv(i)
		p := ConvParams{Kernel: kernel(s.Name, []int{3, 3, s.Cin, s.Cout}), Bias: bias(s.Name, s.Cout)}
		if cut != nil && p.Kernel != nil && p.Bias != nil {
			lo, hi := cut(i)
			p = ConvParams{Kernel: SliceChannels(p.Kernel, 9*s.Cin, s.Cout, lo, hi), Bias: SliceChannels(p.Bias, 1, s.Cout, lo, hi)}
		}
		m.Base.Layers[i] = p
	}
	// The head's dense shapes are read from the file; Check verifies the chain.
	for i := 0; ; i++ {
		name := fmt.Sprintf("head.dense%d", i)
		t, ok := f.Tensor(name + ".kernel")
		if !ok {
			break
		}
		if len(t.Shape) != 2 {
			problems = append(problems, fmt.Sprintf("%s.kernel: shape %v, want [in out]", name, t.Shape))
			break
		}
		d := DenseParams{In: t.Shape[0], Out: t.Shape[1]}
		d.Kernel = kernel(name, t.Shape)
		d.Bias = bias(name, d.Out)
		m.Head.Dense = append(m.Head.Dense, d)
	}
	if m.OOD, err = readOOD(f, m.Base.Arch, get, floats); err != nil {
		return nil, err
	}
	var extra []string
	for _, t := range f.Tensors {
		if !used[t.Name] {
			extra = append(extra, t.Name+": unexpected tensor")
		}
	}
	sort.Strings(extra)
	problems = append(problems, extra...)
	if len(problems) > 0 {
		return nil, &ShapeError{Problems: problems}
	}
	if err := m.check(cut); err != nil {
		return nil, err
	}
	return m, nil
}
