package main

// run is n consecutive source coordinates from `from`, copied to `at`.
type run struct{ from, n, at int }

// consecutiveRuns groups ascending coordinates into runs of consecutive
// ones, so each run is one drawImage call.
func consecutiveRuns(idx []int) []run {
	var runs []run
	for i, v := range idx {
		if len(runs) > 0 && runs[len(runs)-1].from+runs[len(runs)-1].n == v {
			runs[len(runs)-1].n++
			continue
		}
		runs = append(runs, run{from: v, n: 1, at: i})
	}
	return runs
}
