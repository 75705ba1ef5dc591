package data

import (
	"fmt"
	"math"
	"slices"

	"github.com/bench-ml/bench/internal/config"
)

// powerful_benchmarker's other split managers: MLRCSplitManager (the exact
// splits of "A Metric Learning Reality Check"), ClosedSetSplitManager (every
// class in every set) and PredefinedSplitManager (the dataset's own
// partitions).

// MLRC is powerful_benchmarker's MLRCSplitManager, ClassDisjoint with the
// class ranges of "A Metric Learning Reality Check" (MLRC): of n classes,
// val takes int(n·(1-test_size)/P) and train int(n·(1-val_ratio)·
// (1-test_size)) plus what makes the three add up to n, test int(n·
// test_size); train and val are the first int(n·test_size) classes, test
// the rest (so test_size 0.5 halves them); partition p starts its train
// range at int(p/P·m) of the m train and val classes and wraps around, val
// following it. On CUB200 (200 classes, test_size 0.5, 4 partitions) val
// is classes 75-99, 0-24, 25-49 and 50-74.
type MLRC struct{ ClassDisjoint }

// newMLRC takes ClassDisjointSplitManager's parameters, as
// powerful_benchmarker's MLRCSplitManager subclasses it (a config swaps one
// for the other keeping them); its classes are the paper's, so a special
// split scheme is refused.
func newMLRC(p *config.Params) SplitManager {
	if p.Has("special_split_scheme_name") {
		if s := p.String("special_split_scheme_name", ""); s != "" {
			p.Fail("special_split_scheme_name", "only null is supported, got %q: MLRCSplitManager's classes are the ranges of the paper", s)
		}
	}
	return MLRC{indexParams(p)}
}

// Splits implements SplitManager.
func (m MLRC) Splits(ds Dataset) ([]Split, error) {
	const who = "MLRCSplitManager"
	u, err := m.units(ds)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", who, err)
	}
	list := m.ordered(u.list)
	n := float64(len(list))
	P := m.NumTrainingPartitions
	valRatio := (1. / float64(P)) * (1 - m.TestSize)
	trainRatio := (1. - valRatio) * (1 - m.TestSize)
	nTest, nVal, nTrain := int(n*m.TestSize), int(n*valRatio), int(n*trainRatio)
	nTrain += len(list) - (nTest + nVal + nTrain)
	trainVal, test := list[:nTest], list[nTest:]
	if nTrain < 2 || nVal < 2 || nTrain+nVal > len(trainVal) {
		return nil, fmt.Errorf("%s: %d classes, test_size %v and %d partitions give ranges of %d train and %d val classes within %d: "+
			"each needs at least 2 classes and together at most the %d (powerful_benchmarker fails on these too)",
			who, len(list), m.TestSize, P, nTrain, nVal, len(trainVal), len(trainVal))
	}
	testIdx := u.items(test)
	splits := make([]Split, m.NumTrainingSets)
	for f := range splits {
		start := int((float64(f) / float64(P)) * float64(len(trainVal)))
		train := valueRange(trainVal, start, nTrain)
		val := valueRange(trainVal, start+nTrain, nVal)
		for _, c := range val {
			if slices.Contains(train, c) {
				return nil, fmt.Errorf("%s: with test_start_idx %v the train and val ranges of %s share class %d: use test_start_idx 0.5 or shuffle",
					who, m.TestStartIdx, m.schemeName(f), c)
			}
		}
		splits[f] = Split{Name: m.schemeName(f), Train: u.items(train), Val: u.items(val), Test: testIdx}
	}
	return splits, nil
}

// valueRange is powerful_benchmarker's class rule: the wrapped range of
// length classes from list[start] to list[start+length-1] (indices modulo
// len(list)) taken by value, a <= c <= b, or c >= a or c <= b when it wraps;
// it returns the classes of list it admits.
func valueRange(list []int, start, length int) []int {
	a, b := list[start%len(list)], list[(start+length-1)%len(list)]
	var out []int
	for _, c := range list {
		if (a < b && a <= c && c <= b) || (a > b && (c >= a || c <= b)) {
			out = append(out, c)
		}
	}
	return out
}

// ClosedSet is powerful_benchmarker's ClosedSetSplitManager: items, not
// classes, are split, each class in proportion, so every class is in train,
// val and test. The test set is ceil(test_size·n) items drawn per class in
// proportion to the class sizes (scikit-learn's stratified
// train_test_split, always shuffled, seeded by random_seed); the rest is
// cut into NumTrainingPartitions folds as scikit-learn's StratifiedKFold
// does, its items shuffled within each class when Shuffle is set.
// test_start_idx only names the scheme, as in powerful_benchmarker.
type ClosedSet struct{ ClassDisjoint }

func newClosedSet(p *config.Params) SplitManager { return ClosedSet{indexParams(p)} }

// Splits implements SplitManager.
func (m ClosedSet) Splits(ds Dataset) ([]Split, error) {
	const who = "ClosedSetSplitManager"
	labels, err := LabelsAt(ds, m.HierarchyLevel)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", who, err)
	}
	classes := sortedSet(labels)
	byClass := make([][]int, len(classes))
	for i, l := range labels {
		c, _ := slices.BinarySearch(classes, l)
		byClass[c] = append(byClass[c], i)
	}
	n := len(labels)
	nTest := int(math.Ceil(m.TestSize * float64(n)))
	nTrainVal := n - nTest
	if nTest < len(classes) || nTrainVal < len(classes)*m.NumTrainingPartitions {
		return nil, fmt.Errorf("%s: %d items of %d classes: test_size %v gives %d test and %d train and val items; "+
			"every class needs an item in the test set and in each of the %d folds",
			who, n, len(classes), m.TestSize, nTest, nTrainVal, m.NumTrainingPartitions)
	}
	counts := make([]int, len(classes))
	for c, items := range byClass {
		counts[c] = len(items)
	}
	nTrainOf := approximateMode(counts, nTrainVal)
	rest := make([]int, len(counts))
	for c := range counts {
		rest[c] = counts[c] - nTrainOf[c]
	}
	nTestOf := approximateMode(rest, nTest)
	rng := newRNG(m.RandomSeed, streamSplit)
	var trainVal, test []int
	for c, items := range byClass {
		perm := slices.Clone(items)
		rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		trainVal = append(trainVal, perm[:nTrainOf[c]]...)
		test = append(test, perm[nTrainOf[c]:nTrainOf[c]+nTestOf[c]]...)
	}
	folds := m.stratifiedFolds(trainVal, labels)
	splits := make([]Split, m.NumTrainingSets)
	for f := range splits {
		var train, val []int
		for i, item := range trainVal {
			if folds[i] == f {
				val = append(val, item)
			} else {
				train = append(train, item)
			}
		}
		slices.Sort(train)
		slices.Sort(val)
		splits[f] = Split{Name: m.schemeName(f), Train: train, Val: val, Test: slices.Sorted(slices.Values(test))}
	}
	return splits, nil
}

// approximateMode splits draws among classes in proportion to counts, as
// scikit-learn's _approximate_mode: each class its floor, the remainder one
// each to the largest fractional parts (ties to the earlier class, where
// scikit-learn draws at random).
func approximateMode(counts []int, draws int) []int {
	total := 0
	for _, c := range counts {
		total += c
	}
	out := make([]int, len(counts))
	frac := make([]float64, len(counts))
	left := draws
	for i, c := range counts {
		x := float64(c) * float64(draws) / float64(total)
		out[i] = int(math.Floor(x))
		frac[i] = x - float64(out[i])
		left -= out[i]
	}
	order := make([]int, len(counts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case frac[a] > frac[b]:
			return -1
		case frac[a] < frac[b]:
			return 1
		}
		return 0
	})
	for _, i := range order {
		if left == 0 {
			break
		}
		if out[i] < counts[i] {
			out[i]++
			left--
		}
	}
	return out
}

// stratifiedFolds assigns each of items a fold as scikit-learn's
// StratifiedKFold: classes numbered by first appearance, the sorted class
// numbers dealt round-robin to the folds to fix each fold's share of each
// class, and a class's items taking folds 0, 0, ..., 1, ... in order
// (shuffled when Shuffle is set).
func (m ClosedSet) stratifiedFolds(items, labels []int) []int {
	P := m.NumTrainingPartitions
	code := map[int]int{}
	enc := make([]int, len(items))
	for i, item := range items {
		c, ok := code[labels[item]]
		if !ok {
			c = len(code)
			code[labels[item]] = c
		}
		enc[i] = c
	}
	sorted := slices.Sorted(slices.Values(enc))
	alloc := make([][]int, len(code)) // alloc[class][fold]
	for c := range alloc {
		alloc[c] = make([]int, P)
	}
	for j, c := range sorted {
		alloc[c][j%P]++
	}
	rng := newRNG(m.RandomSeed, streamSplit, 1)
	folds := make([]int, len(items))
	for c := range alloc {
		var assign []int
		for f, k := range alloc[c] {
			for range k {
				assign = append(assign, f)
			}
		}
		if m.Shuffle {
			rng.Shuffle(len(assign), func(i, j int) { assign[i], assign[j] = assign[j], assign[i] })
		}
		next := 0
		for i := range items {
			if enc[i] == c {
				folds[i] = assign[next]
				next++
			}
		}
	}
	return folds
}

// Predefined is powerful_benchmarker's PredefinedSplitManager: one split
// scheme, the dataset's own partitions.
type Predefined struct{}

func newPredefined(p *config.Params) SplitManager {
	if pbSplitParams(p) != 0 {
		p.Fail("hierarchy_level", "has no effect on predefined splits; remove it")
	}
	return Predefined{}
}

// Splits implements SplitManager.
func (Predefined) Splits(ds Dataset) ([]Split, error) {
	return predefinedSplit(ds, "PredefinedSplitScheme_0", "PredefinedSplitManager")
}

// predefinedSplit is the one split scheme of the dataset's partitions:
// train and test, and val, or, for a dataset without one (SOP), test as
// val, as old_approach does.
func predefinedSplit(ds Dataset, name, who string) ([]Split, error) {
	parts := partitions(ds)
	if len(parts["train"]) == 0 || len(parts["test"]) == 0 {
		return nil, fmt.Errorf("%s: the dataset has no predefined train and test partitions "+
			"(StanfordOnlineProducts has, from its Ebay_train and Ebay_test lists)", who)
	}
	val := parts["val"]
	if len(val) == 0 {
		val = parts["test"]
	}
	return []Split{{Name: name, Train: parts["train"], Val: val, Test: parts["test"]}}, nil
}
