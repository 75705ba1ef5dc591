package search

import (
	"errors"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bench-ml/bench/internal/expfolder"
)

// A parallel search keeps Parallel trials in flight, never proposes a
// point twice, and still finds the peak.
func TestParallelSearch(t *testing.T) {
	for _, liar := range []Liar{ConstantLiar, KrigingBeliever} {
		o := options(t, Space{lrRange, marginRange}, 16)
		o.Parallel, o.Liar = 3, liar
		var now, most atomic.Int32
		var first sync.WaitGroup // the first three trials end once all three run
		first.Add(3)
		st, err := Run(o, ObjectiveFunc(func(name string, v map[string]float64) (float64, error) {
			n := now.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			if name == "trial_0" || name == "trial_1" || name == "trial_2" {
				first.Done()
				first.Wait()
			}
			now.Add(-1)
			return peak(name, v)
		}))
		if err != nil {
			t.Fatal(err)
		}
		if most.Load() != 3 {
			t.Errorf("%s: at most %d trials in flight, want 3", liar, most.Load())
		}
		seen := map[[2]float64]string{}
		for _, tr := range st.Trials {
			p := [2]float64{tr.Values[lrRange.Path], tr.Values[marginRange.Path]}
			if other, ok := seen[p]; ok {
				t.Errorf("%s: %s repeats %s: %v", liar, tr.Name, other, p)
			}
			seen[p] = tr.Name
			if tr.Status != Done {
				t.Errorf("%s: %s is %s", liar, tr.Name, tr.Status)
			}
		}
		if best := bestOf(st, len(st.Trials)); best < -0.05 || len(st.Trials) != 16 {
			t.Errorf("%s: %d trials, best %.4f: want 16, above -0.05", liar, len(st.Trials), best)
		}
	}
}

// The point proposed while others run keeps away from them: the lie makes
// the process sure of its value there.
func TestProposalAvoidsPendingPoints(t *testing.T) {
	s := Space{marginRange}
	st := &State{expfolder.Search{Space: s, Seed: 1}}
	for _, m := range []float64{0.1, 0.5, 0.9} {
		v, _ := peak("", map[string]float64{marginRange.Path: m})
		st.Trials = append(st.Trials, Trial{Values: map[string]float64{marginRange.Path: m}, Status: Done, Objective: &v})
	}
	alone, err := st.next(3, nil, ConstantLiar)
	if err != nil {
		t.Fatal(err)
	}
	st.Trials = append(st.Trials, Trial{Values: s.values(alone), Status: Running})
	for _, liar := range []Liar{ConstantLiar, KrigingBeliever} {
		u, err := st.next(4, nil, liar)
		if err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(u[0] - alone[0]); d < 0.02 {
			t.Errorf("%s: proposed %.4f with %.4f in flight", liar, u[0], alone[0])
		}
	}
}

// A parallel search whose launcher dies (here: a trial fails) leaves the
// trials in flight running in the state; run again, it continues exactly
// those, and every trial ends done once, none lost, none repeated.
func TestParallelSearchResumes(t *testing.T) {
	o := options(t, Space{lrRange, marginRange}, 10)
	o.Parallel = 2
	var mu sync.Mutex
	first := map[string]map[string]float64{}
	_, err := Run(o, ObjectiveFunc(func(name string, v map[string]float64) (float64, error) {
		mu.Lock()
		first[name] = v
		mu.Unlock()
		if name == "trial_6" {
			return 0, errors.New("killed")
		}
		return peak(name, v)
	}))
	if err == nil || !strings.Contains(err.Error(), "trial_6") {
		t.Fatalf("want trial_6's error, got %v", err)
	}
	var again []string
	st, err := Run(o, ObjectiveFunc(func(name string, v map[string]float64) (float64, error) {
		mu.Lock()
		again = append(again, name)
		if w, ok := first[name]; ok && (w[lrRange.Path] != v[lrRange.Path] || w[marginRange.Path] != v[marginRange.Path]) {
			t.Errorf("%s continued with %v, started with %v", name, v, w)
		}
		mu.Unlock()
		return peak(name, v)
	}))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range again {
		if _, ran := first[name]; ran && name != "trial_6" {
			t.Errorf("%s, finished before, ran again", name)
		}
	}
	if len(st.Trials) != 10 {
		t.Fatalf("%d trials, want 10", len(st.Trials))
	}
	for i, tr := range st.Trials {
		if tr.Status != Done || tr.Name != "trial_"+string(rune('0'+i)) {
			t.Errorf("trial %d: %+v", i, tr)
		}
	}
}
