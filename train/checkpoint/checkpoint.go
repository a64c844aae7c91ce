package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"vggo/internal/atomicfile"

	"vggo/train/report"
)

// magic starts every checkpoint file.
const magic = "VGGOCKPT"

// Version is the checkpoint format version.
const Version = 1

// State is everything a resumed run needs.
type State struct {
	Version int `json:"version"`
	// Config is the run's configuration fingerprint; a resume with a
	// different one is refused.
	Config string `json:"config"`
	// DataDigest identifies the training and validation samples (paths and
	// labels, in order); a resume on a changed dataset is refused.
	DataDigest string `json:"data_digest"`
	// Epoch is the number of completed epochs; Batch the number of batches
	// already done in epoch Epoch+1 (non-zero only after an interrupt).
	Epoch, Batch int
	// Partial sums of the interrupted epoch (loss·n, correct, n).
	PartLoss             float64
	PartCorrect, PartN   int
	BestValLoss          float64
	BestEpoch, BadEpochs int
	History              report.History
	// Solver scalars (kind, rates, step count); slots are stored as tensors.
	SolverKind  string
	SolverLR    float64
	SolverBeta1 float64
	SolverBeta2 float64
	SolverEps   float64
	SolverIter  int
	// Tensors, by name: "param/<name>", "best/<name>", "m/<i>", "v/<i>".
	Tensors map[string][]float32 `json:"-"`
}

type tensorEntry struct {
	Name   string `json:"name"`
	Offset int    `json:"offset"` // in float32 elements
	Len    int    `json:"len"`
}

type header struct {
	State   *State        `json:"state"`
	Tensors []tensorEntry `json:"tensors"`
}

// Encode serialises s: magic, uint64 header length, JSON header, then the
// tensors as little-endian float32 in header order.
func Encode(s *State) ([]byte, error) {
	var b bytes.Buffer
	err := encodeTo(&b, s)
	return b.Bytes(), err
}

func encodeTo(w io.Writer, s *State) error {
	h := header{State: s}
	names := sortedKeys(s.Tensors)
	off := 0
	for _, n := range names {
		h.Tensors = append(h.Tensors, tensorEntry{n, off, len(s.Tensors[n])})
		off += len(s.Tensors[n])
	}
	js, err := json.Marshal(h)
	if err != nil {
		return err
	}
	var pre [len(magic) + 8]byte
	copy(pre[:], magic)
	binary.LittleEndian.PutUint64(pre[len(magic):], uint64(len(js)))
	if _, err := w.Write(pre[:]); err != nil {
		return err
	}
	if _, err := w.Write(js); err != nil {
		return err
	}
	buf := make([]byte, 4*4096)
	for _, n := range names {
		v := s.Tensors[n]
		for len(v) > 0 {
			k := min(len(v), 4096)
			for i, x := range v[:k] {
				binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
			}
			if _, err := w.Write(buf[:4*k]); err != nil {
				return err
			}
			v = v[k:]
		}
	}
	return nil
}

// Decode parses a checkpoint; name is used in errors.
func Decode(data []byte, name string) (*State, error) {
	if len(data) < len(magic)+8 || string(data[:len(magic)]) != magic {
		return nil, fmt.Errorf("%s: not a vggo checkpoint", name)
	}
	n := binary.LittleEndian.Uint64(data[len(magic):])
	rest := data[len(magic)+8:]
	if n > uint64(len(rest)) {
		return nil, fmt.Errorf("%s: header length %d exceeds file", name, n)
	}
	var h header
	if err := json.Unmarshal(rest[:n], &h); err != nil {
		return nil, fmt.Errorf("%s: header: %w", name, err)
	}
	if h.State == nil || h.State.Version != Version {
		return nil, fmt.Errorf("%s: unsupported checkpoint version", name)
	}
	raw := rest[n:]
	h.State.Tensors = map[string][]float32{}
	for _, e := range h.Tensors {
		if e.Offset < 0 || e.Len < 0 || (e.Offset+e.Len)*4 > len(raw) {
			return nil, fmt.Errorf("%s: tensor %s out of bounds", name, e.Name)
		}
		v := make([]float32, e.Len)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[(e.Offset+i)*4:]))
		}
		h.State.Tensors[e.Name] = v
	}
	return h.State, nil
}

// Save writes s to path atomically.
func Save(path string, s *State) error {
	s.Version = Version
	return atomicfile.Write(path, 0o644, func(w io.Writer) error { return encodeTo(w, s) })
}

// Load reads a checkpoint file.
func Load(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Decode(b, path)
}

func sortedKeys(m map[string][]float32) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	for i := 1; i < len(k); i++ {
		for j := i; j > 0 && k[j] < k[j-1]; j-- {
			k[j], k[j-1] = k[j-1], k[j]
		}
	}
	return k
}
