package main

import (
	"reflect"
	"testing"
)

func TestConsecutiveRuns(t *testing.T) {
	got := consecutiveRuns([]int{0, 1, 5, 6, 7, 9, 12, 13})
	want := []run{{from: 0, n: 2, at: 0}, {from: 5, n: 3, at: 2}, {from: 9, n: 1, at: 5}, {from: 12, n: 2, at: 6}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("runs = %+v, want %+v", got, want)
	}
	if got := consecutiveRuns(nil); len(got) != 0 {
		t.Errorf("runs of nothing = %+v", got)
	}
}
