package harness

import (
	"math"
	"sort"
)

// Stat summarizes the per-round values of one measure.
type Stat struct {
	N                int
	Median, Min, Max float64
	Values           []float64
}

// Summarize returns the median, min and max of vs (NaN when empty).
func Summarize(vs []float64) Stat {
	s := Stat{N: len(vs), Values: append([]float64(nil), vs...)}
	if len(vs) == 0 {
		s.Median, s.Min, s.Max = math.NaN(), math.NaN(), math.NaN()
		return s
	}
	sorted := append([]float64(nil), vs...)
	sort.Float64s(sorted)
	s.Min, s.Max = sorted[0], sorted[len(sorted)-1]
	if n := len(sorted); n%2 == 1 {
		s.Median = sorted[n/2]
	} else {
		s.Median = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	return s
}

// Ratio is a/b, NaN when b is zero or either is NaN.
func Ratio(a, b float64) float64 {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	return a / b
}
