// Package protocol defines the messages exchanged between the page (the
// go-app UI) and the inference worker (a second Go wasm program running in a
// Web Worker), and the server's /models index entries both of them read.
//
// Every message is a plain JavaScript object {kind, id, body, blob}: kind is
// one of the Kind constants, id pairs a reply with its request, body is the
// JSON encoding of the struct named for that kind, and blob (classify only)
// carries the image file itself, so the page never copies image bytes
// through Go memory. JSON keeps the two programs in sync through these Go
// types alone, and makes the protocol testable natively.
package protocol

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"vggo/model/rank"
)

// Message kinds. The comment says who sends it and which body it carries.
const (
	KindReady       = "ready"        // worker → page, at start-up; no body
	KindLoad        = "load"         // page → worker: LoadRequest
	KindProgress    = "progress"     // worker → page: Progress (download of a model)
	KindLoaded      = "loaded"       // worker → page: Loaded
	KindClassify    = "classify"     // page → worker: ClassifyRequest, blob = the image file
	KindResult      = "result"       // worker → page: Result
	KindBench       = "bench"        // page → worker: BenchRequest
	KindBenchRow    = "bench-row"    // worker → page: BenchRow, one per input size
	KindBenchDone   = "bench-done"   // worker → page: no body
	KindError       = "error"        // worker → page: ErrorReply, for the request with the same id
	KindCacheStatus = "cache-status" // page → worker: CacheStatusRequest; reply KindCacheStatus: CacheStatus
)

// Field names of the message object.
const (
	FieldKind = "kind"
	FieldID   = "id"
	FieldBody = "body"
	FieldBlob = "blob"
)

// LoadRequest asks the worker to make a model ready: from the Cache API when
// a verified copy is there, else downloaded from URL with progress.
type LoadRequest struct {
	Name   string `json:"name"`
	URL    string `json:"url"`
	SHA256 string `json:"sha256"` // lower-case hex; the bytes must match before use
	Bytes  int64  `json:"bytes"`  // expected size, for progress when the server sends no Content-Length
	// SaveMemory packs the weights as model.SaveMemory says: for phones
	// and other devices short of memory, at some cost in speed and accuracy.
	SaveMemory bool `json:"saveMemory,omitempty"`
	// RowBlocks and ImageBlocks are model.ShardOptions' for a pool: 0
	// lets the workers choose (the page's ?rows= and ?images= override
	// them, for tests and benchmarks).
	RowBlocks   int `json:"rowBlocks,omitempty"`
	ImageBlocks int `json:"imageBlocks,omitempty"`
}

// Progress reports a model download.
type Progress struct {
	Name   string `json:"name"`
	Loaded int64  `json:"loaded"`
	Total  int64  `json:"total"`
}

// Percent is Loaded/Total in percent, 0 when Total is unknown.
func (p Progress) Percent() float64 {
	if p.Total <= 0 {
		return 0
	}
	return 100 * float64(p.Loaded) / float64(p.Total)
}

// Loaded tells the page the model is ready.
type Loaded struct {
	Name       string   `json:"name"`
	Classes    []string `json:"classes"`
	InputSize  int      `json:"inputSize"`
	Preprocess string   `json:"preprocess"`
	Bytes      int64    `json:"bytes"`
	FromCache  bool     `json:"fromCache"`
	LoadMillis float64  `json:"loadMillis"` // parse + NewNet (weight transforms), not the download

	// Description is the model file's line on what pictures it knows
	// ("" in files without one).
	Description string `json:"description,omitempty"`

	// FlipAverage: the model classifies every picture as it is and
	// mirrored and averages the two (model.Info.FlipAverage).
	FlipAverage bool `json:"flipAverage,omitempty"`
	// SaveMemory: the weights are packed to save memory, as the request
	// asked (LoadRequest.SaveMemory).
	SaveMemory bool `json:"saveMemory,omitempty"`

	// WasmBytes is the worker's wasm memory after loading (issue 14: the
	// pool reports the sum over its workers).
	WasmBytes int64 `json:"wasmBytes,omitempty"`
	// Splits: how a pool's pass of one picture (two images for a
	// flip-averaging model) splits the leading blocks the workers hold
	// whole (model.Shard.Splits).
	Splits []string `json:"splits,omitempty"`
}

// SplitWords says how a pool splits its leading blocks (model.Shard.Splits):
// "blocks 1-2 split by images", "block 1 split by rows"; "" where they are
// split by channels, as every other block is.
func SplitWords(splits []string) string {
	n := 0
	for n < len(splits) && splits[n] == splits[0] && splits[0] != "channels" {
		n++
	}
	switch n {
	case 0:
		return ""
	case 1:
		return "block 1 split by " + splits[0]
	}
	return fmt.Sprintf("blocks 1-%d split by %s", n, splits[0])
}

// ClassifyRequest accompanies an image blob.
type ClassifyRequest struct {
	Name string `json:"name"` // file name, used in error messages
	Size int64  `json:"size"`
}

// Result is the classification of one image.
type Result struct {
	Name    string            `json:"name"`
	Model   string            `json:"model"`
	Width   int               `json:"width"`   // decoded image, after EXIF orientation
	Height  int               `json:"height"`  //
	Top     []rank.Prediction `json:"top"`     // best first, at most 5
	Probs   []float32         `json:"probs"`   // every class, in model order
	Decoder string            `json:"decoder"` // DecoderWebCodecs, DecoderBrowser or DecoderGo
	// DecodedWidth×DecodedHeight is the picture the decoder handed over,
	// after EXIF orientation: Width×Height, or less where a large picture
	// was decoded at a reduced scale (a JPEG through WebCodecs) or resized
	// by the browser before the worker read it (createImageBitmap).
	DecodedWidth  int     `json:"decodedWidth"`
	DecodedHeight int     `json:"decodedHeight"`
	DecodeMillis  float64 `json:"decodeMillis"`
	ForwardMillis float64 `json:"forwardMillis"` // preprocessing + forward pass
	OOD           *OOD    `json:"ood,omitempty"` // nil: the model cannot judge (no OOD statistics)

	// Input is the network input as the model saw it (resized, before
	// normalisation), a PNG of InputSize×InputSize pixels.
	Input []byte `json:"input,omitempty"`
}

// Decoders: which one turned the image file into pixels.
const (
	// DecoderWebCodecs is the browser's WebCodecs ImageDecoder, the
	// worker's first choice for JPEG: fastest on photos.
	DecoderWebCodecs = "webcodecs"
	// DecoderBrowser is the browser's createImageBitmap, the worker's
	// first choice for other formats: several times faster than Go's.
	DecoderBrowser = "browser"
	// DecoderGo is model.DecodeImage, the fallback where the browser's
	// decoder is missing or refuses the file, and the native path.
	DecoderGo = "go"
)

// OOD says whether an image looks unlike the images the model was trained
// on (model.OOD): then its top class is no answer.
type OOD struct {
	Flagged   bool    `json:"flagged"`
	Score     float64 `json:"score"`
	Threshold float64 `json:"threshold"`
}

// BenchRequest asks the worker to time the forward pass with random weights.
type BenchRequest struct {
	Sizes    []int `json:"sizes"`    // input sizes, e.g. 224 and 32
	WidthDiv int   `json:"widthDiv"` // 1 = real VGG16
	Warmup   int   `json:"warmup"`
	Runs     int   `json:"runs"`
	Batch    int   `json:"batch,omitempty"` // images per forward pass; 0 is 1

	HalfWeights bool `json:"halfWeights,omitempty"` // float16 Winograd weights (model.ShardOptions; pool benchmarks)
	SmallTiles  bool `json:"smallTiles,omitempty"`  // F(2x2) in blocks 4 and 5 (model.ShardOptions; pool benchmarks)
	RowBlocks   int  `json:"rowBlocks,omitempty"`   // leading blocks split by rows: 0 automatic, -1 none (model.ShardOptions; pool benchmarks)
	ImageBlocks int  `json:"imageBlocks,omitempty"` // leading blocks split by images: 0 automatic, -1 none (model.ShardOptions; pool benchmarks)
}

// BenchRow is the timing of one input size.
type BenchRow struct {
	Size         int       `json:"size"`
	Batch        int       `json:"batch,omitempty"`
	WidthDiv     int       `json:"widthDiv"`
	Runs         int       `json:"runs"`
	MedianMillis float64   `json:"medianMillis"`
	MinMillis    float64   `json:"minMillis"`
	Millis       []float64 `json:"millis"`

	// The pool that ran it (issue 14): its workers, their exchange mode
	// and their wasm memory together.
	Workers   int    `json:"workers,omitempty"`
	Exchange  string `json:"exchange,omitempty"`
	Spin      bool   `json:"spin,omitempty"` // PoolRequest.Spin
	WasmBytes int64  `json:"wasmBytes,omitempty"`
	// Splits: how the timed passes split the leading blocks the pool
	// holds whole (model.Shard.Splits).
	Splits []string `json:"splits,omitempty"`
	// ParkedPasses: the followers' passes so far that started from the
	// control buffer (BenchLoaded.ParkedPasses, summed).
	ParkedPasses int `json:"parkedPasses,omitempty"`
	// PolledBarriers: the workers' barriers so far passed while polling
	// (BenchLoaded.PolledBarriers, summed).
	PolledBarriers int `json:"polledBarriers,omitempty"`
}

// ErrorReply carries a failure of the request with the same id.
type ErrorReply struct {
	Message string `json:"message"`
}

// CacheStatusRequest asks which models have a verified copy in the cache.
type CacheStatusRequest struct {
	SHA256 []string `json:"sha256"`
}

// CacheStatus lists the hashes of the models found in the cache.
type CacheStatus struct {
	Cached []string `json:"cached"`
}

// ModelEntry is one model of the server's /models index.
type ModelEntry struct {
	Name       string   `json:"name"`
	File       string   `json:"file"`
	URL        string   `json:"url,omitempty"`
	Classes    []string `json:"classes"`
	InputSize  int      `json:"inputSize"`
	Bytes      int64    `json:"bytes"`
	SHA256     string   `json:"sha256"`
	Preprocess string   `json:"preprocess,omitempty"`
	Head       string   `json:"head,omitempty"`
	Error      string   `json:"error,omitempty"` // set by the server for an unreadable file
}

// Href is where the model file is downloaded from: URL when the server
// gives one, else /models/<file>.
func (e ModelEntry) Href() string {
	if e.URL != "" {
		return e.URL
	}
	return "/models/" + e.File
}

// ParseIndex decodes the /models index: either a JSON array of entries or
// an object whose "models" field is that array. Entries the server marked as
// errors, or without a file or a SHA-256, are returned separately so the UI
// can say why a model is missing.
func ParseIndex(data []byte) (usable []ModelEntry, broken []ModelEntry, err error) {
	var entries []ModelEntry
	trimmed := strings.TrimSpace(string(data))
	switch {
	case strings.HasPrefix(trimmed, "["):
		err = json.Unmarshal(data, &entries)
	case strings.HasPrefix(trimmed, "{"):
		var wrapped struct {
			Models []ModelEntry `json:"models"`
		}
		err = json.Unmarshal(data, &wrapped)
		entries = wrapped.Models
	default:
		err = fmt.Errorf("not a JSON array or object")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("models index: %w", err)
	}
	for _, e := range entries {
		e.SHA256 = strings.ToLower(e.SHA256)
		switch {
		case e.Error != "":
			broken = append(broken, e)
		case e.File == "" && e.URL == "":
			e.Error = "no file name"
			broken = append(broken, e)
		case !IsSHA256Hex(e.SHA256):
			e.Error = "no valid SHA-256"
			broken = append(broken, e)
		default:
			if e.Name == "" {
				e.Name = e.File
			}
			usable = append(usable, e)
		}
	}
	sort.SliceStable(usable, func(i, j int) bool { return usable[i].Name < usable[j].Name })
	return usable, broken, nil
}

// IsSHA256Hex reports whether s is 64 lower-case hex digits.
func IsSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Median returns the median of xs (the mean of the two middle values for an
// even count); 0 for none. xs is not modified.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// HumanBytes formats n as B, KB, MB or GB (powers of 1024, one decimal).
func HumanBytes(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	}
}
