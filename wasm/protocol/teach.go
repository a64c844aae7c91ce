package protocol

// ---- Teach: training a new classifier in the browser (the /teach page) ----
//
// The page sends each image once to compute its features with the loaded
// (base) model, keeps them, and sends all of them to train a head; the
// worker reports every epoch and the evaluation, then builds the model
// file from the base and the trained head. Stop is handled as soon as it
// arrives, even while a training runs (the worker checks between epochs).

import "vggo/model/headtrain/headspec"

// Teach message kinds.
const (
	KindTeachFeatures  = "teach-features"  // page → worker: TeachFeaturesRequest, blob = the image; reply KindTeachFeatures: TeachFeatures
	KindTeachTrain     = "teach-train"     // page → worker: TeachTrainRequest; replies KindTeachEpoch…, then KindTeachTrained
	KindTeachEpoch     = "teach-epoch"     // worker → page: TeachEpoch
	KindTeachTrained   = "teach-trained"   // worker → page: TeachTrained; from now on classify requests use the taught model
	KindTeachEvaluated = "teach-evaluated" // worker → page, after KindTeachTrained: TeachEvaluated
	KindTeachSaved     = "teach-saved"     // worker → page, after KindTeachEvaluated: TeachSaved, blob = the model file (Uint8Array)
	KindTeachStop      = "teach-stop"      // page → worker: no body; ends the running training after its current epoch
	KindTeachImport    = "teach-import"    // page → worker: TeachImportRequest, blob = a model file; reply KindTeachImported: TeachImported
	KindTeachImported  = "teach-imported"  // worker → page: TeachImported
)

// TeachFeaturesRequest accompanies an image whose base features the page
// wants.
type TeachFeaturesRequest struct {
	Name     string `json:"name"`     // file name, for error messages
	TuneConv bool   `json:"tuneConv"` // the input of the base's last conv layer instead of the pooled output
}

// TeachFeatures are one image's features: the global average of the loaded
// model's conv base output (what the gap and linear heads read first), or,
// when the request said TuneConv, the input of the base's last conv layer
// (H×W×C, NHWC), on which that layer trains with the head.
type TeachFeatures struct {
	Name     string    `json:"name"`
	Base     string    `json:"base"` // SHA-256 of the model they were computed with
	Features []float32 `json:"features"`
	Millis   float64   `json:"millis"` // decode + preprocessing + conv base
}

// TeachTrainRequest asks for a head trained on the given features (one per
// image, all of the same length) and labels (indices into Classes), an
// evaluation (a hold-out split or k-fold, headspec.PlanSplit), and the
// model file of the base with that head.
type TeachTrainRequest struct {
	Classes     []string          `json:"classes"`
	Features    [][]float32       `json:"features"`
	Labels      []int             `json:"labels"`
	Settings    headspec.Settings `json:"settings"`
	TuneConv    bool              `json:"tuneConv"`    // also fine-tune the base's last conv layer (Features are its inputs)
	ModelName   string            `json:"modelName"`   // becomes the file's name and description
	Quantize    string            `json:"quantize"`    // model.DTypeInt8 (default), float16 or float32
	Description string            `json:"description"` // one line for the file's users
}

// TeachEpoch is one finished epoch of the run named by Phase: "fold 2/5",
// "held-out split" or "final".
type TeachEpoch struct {
	Phase  string         `json:"phase"`
	Step   int            `json:"step"`  // epochs done so far, over all phases
	Steps  int            `json:"steps"` // epochs in all phases
	Result headspec.Epoch `json:"result"`
}

// TeachTrained is the final run's history. The worker now classifies
// with the taught model; the evaluation follows.
type TeachTrained struct {
	History     []headspec.Epoch `json:"history"`
	Stopped     bool             `json:"stopped"` // the user stopped it: the model is the best epoch so far
	TrainMillis float64          `json:"trainMillis"`
}

// TeachEvaluated is the evaluation of the taught run's settings (empty
// with Skipped set when the user stopped it).
type TeachEvaluated struct {
	Evaluation headspec.Evaluation `json:"evaluation"`
	Skipped    bool                `json:"skipped"`
	Millis     float64             `json:"millis"`
}

// TeachSaved follows TeachEvaluated: the model file (in the message's blob)
// and its index entry; the worker has saved it in the model cache unless
// SaveError says why not (storage full: export it instead).
type TeachSaved struct {
	Entry       ModelEntry `json:"entry"`
	SaveError   string     `json:"saveError,omitempty"`
	BuildMillis float64    `json:"buildMillis"` // encoding the file
}

// TeachImportRequest accompanies a model file the user imports.
type TeachImportRequest struct {
	Name string `json:"name"`
}

// TeachImported is an imported (or built) model file, saved in the model
// cache under Entry's URL and SHA-256, so a load request finds it offline.
type TeachImported struct {
	Entry ModelEntry `json:"entry"`
}

// LocalModelPrefix is the URL path of models made or imported in the
// browser: they exist only in the worker's model cache, never on the
// server.
const LocalModelPrefix = "/local-models/"
