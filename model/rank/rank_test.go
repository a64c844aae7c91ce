package rank

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestTopK(t *testing.T) {
	probs := []float32{0.1, 0.4, 0.05, 0.4, 0.05}
	for _, c := range []struct {
		name    string
		classes []string
		k       int
		want    []Prediction
	}{
		{"ties keep the lower index first", []string{"a", "b", "c", "d", "e"}, 3,
			[]Prediction{{"b", 1, 0.4}, {"d", 3, 0.4}, {"a", 0, 0.1}}},
		{"a class without a name gets a placeholder", []string{"a", "b"}, 3,
			[]Prediction{{"b", 1, 0.4}, {"class 3", 3, 0.4}, {"a", 0, 0.1}}},
		{"k beyond the class count returns all", nil, 10,
			[]Prediction{{"class 1", 1, 0.4}, {"class 3", 3, 0.4}, {"class 0", 0, 0.1}, {"class 2", 2, 0.05}, {"class 4", 4, 0.05}}},
		{"k below 1 returns none", nil, -1, []Prediction{}},
	} {
		if got := TopK(probs, c.classes, c.k); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: TopK = %+v, want %+v", c.name, got, c.want)
		}
	}
}

// TestPredictionJSON pins the field names the worker's results and the
// widget's vggo-result event carry (host pages read them).
func TestPredictionJSON(t *testing.T) {
	b, err := json.Marshal(Prediction{Class: "cat", Index: 2, Prob: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"class":"cat","index":2,"prob":0.5}`; string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
}
