package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"

	"vggo/internal/atomicfile"
	"vggo/model/safetensors"
	"vggo/train/report"
)

// Version is the checkpoint format version.
const Version = 2

// The file is safetensors: one 1-D F32 tensor per State.Tensors entry, and
// in __metadata__ a format marker, the State as JSON and the checksum.
const (
	metaFormat = "format"
	metaState  = "state"
	metaSHA256 = "sha256"
	formatName = "vggo-checkpoint"
)

// oldMagic starts the checkpoints of format version 1, a container of
// vggo's own that safetensors replaced.
const oldMagic = "VGGOCKPT"

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
	PartLoss           float64
	PartCorrect, PartN int
	// BestValLoss is +Inf until an epoch has been scored.
	BestValLoss          float64
	BestEpoch, BadEpochs int
	History              report.History
	// The optimizer's kind and step count; its moments are tensors.
	SolverKind string
	SolverIter int
	// Tensors, by name: "param/<name>", "best/<name>", "m/<i>", "v/<i>".
	Tensors map[string][]float32 `json:"-"`
}

// stateJSON is State as JSON, which has no infinity: BestValLoss is null
// until an epoch has been scored. (The outer field hides State's.)
type stateJSON struct {
	*State
	BestValLoss *float64
}

func (s *State) marshal() ([]byte, error) {
	j := stateJSON{State: s}
	if !math.IsInf(s.BestValLoss, 1) {
		j.BestValLoss = &s.BestValLoss
	}
	return json.Marshal(j)
}

func (s *State) unmarshal(b []byte) error {
	j := stateJSON{State: s}
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	s.BestValLoss = math.Inf(1)
	if j.BestValLoss != nil {
		s.BestValLoss = *j.BestValLoss
	}
	return nil
}

// checksum covers the state's JSON and each tensor's name and bytes, in
// file order, so that no changed bit goes unnoticed.
func checksum(state string, tensors []safetensors.Tensor) string {
	h := sha256.New()
	io.WriteString(h, state)
	for _, t := range tensors {
		fmt.Fprintf(h, "\x00%s\x00%d\x00", t.Name, len(t.Data))
		h.Write(t.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Encode serialises s as a safetensors file, tensors in name order.
func Encode(s *State) ([]byte, error) {
	var b bytes.Buffer
	err := encodeTo(&b, s)
	return b.Bytes(), err
}

func encodeTo(w io.Writer, s *State) error {
	state, err := s.marshal()
	if err != nil {
		return fmt.Errorf("checkpoint state: %w", err)
	}
	var tensors []safetensors.Tensor
	for _, name := range slices.Sorted(maps.Keys(s.Tensors)) {
		v := s.Tensors[name]
		tensors = append(tensors, safetensors.FromFloat32s(name, []int{len(v)}, v))
	}
	meta := map[string]string{metaFormat: formatName, metaState: string(state), metaSHA256: checksum(string(state), tensors)}
	return safetensors.Write(w, tensors, meta)
}

// Decode parses a checkpoint and verifies its checksum; every error names
// the file as name.
func Decode(data []byte, name string) (*State, error) {
	if bytes.HasPrefix(data, []byte(oldMagic)) {
		return nil, fmt.Errorf("%s: a checkpoint in the format of vggo before checkpoints became safetensors, which this version cannot resume; start the run again (delete the file or use a new --out)", name)
	}
	f, err := safetensors.Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%s: not a vggo checkpoint: %w", name, err)
	}
	if f.Metadata[metaFormat] != formatName {
		return nil, fmt.Errorf("%s: not a vggo checkpoint (a safetensors file without format %q in its metadata)", name, formatName)
	}
	state := f.Metadata[metaState]
	if checksum(state, f.Tensors) != f.Metadata[metaSHA256] {
		return nil, fmt.Errorf("%s: the checkpoint is corrupt (its SHA-256 does not match its contents); start the run again (delete the file or use a new --out)", name)
	}
	s := &State{}
	if err := s.unmarshal([]byte(state)); err != nil {
		return nil, fmt.Errorf("%s: checkpoint state: %w", name, err)
	}
	if s.Version != Version {
		return nil, fmt.Errorf("%s: checkpoint format version %d, this vggo reads %d", name, s.Version, Version)
	}
	s.Tensors = make(map[string][]float32, len(f.Tensors))
	for _, t := range f.Tensors {
		if t.DType != safetensors.F32 || len(t.Shape) != 1 {
			return nil, fmt.Errorf("%s: tensor %s is %s %v, want a 1-D F32", name, t.Name, t.DType, t.Shape)
		}
		if s.Tensors[t.Name], err = t.Float32s(); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return s, nil
}

// Save writes s to path atomically.
func Save(path string, s *State) error {
	s.Version = Version
	return atomicfile.Write(path, 0o644, func(w io.Writer) error { return encodeTo(w, s) })
}

// Load reads a checkpoint file and verifies its checksum.
func Load(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Decode(b, path)
}
