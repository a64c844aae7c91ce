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

func TestBest(t *testing.T) {
	for _, c := range []struct {
		probs []float32
		want  int
	}{
		{nil, 0},
		{[]float32{0.2}, 0},
		{[]float32{0.1, 0.7, 0.2}, 1},
		{[]float32{0.4, 0.1, 0.4}, 0}, // ties: the first, as TopK orders them
		{[]float32{-3, -1, -2}, 1},
	} {
		if got := Best(c.probs); got != c.want {
			t.Errorf("Best(%v) = %d, want %d", c.probs, got, c.want)
		}
		if len(c.probs) > 0 && TopK(c.probs, nil, 1)[0].Index != c.want {
			t.Errorf("Best(%v) disagrees with TopK's first", c.probs)
		}
	}
}
