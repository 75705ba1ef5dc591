package data

import (
	"fmt"
	"math"
	"slices"

	"github.com/bench-ml/bench/internal/config"
)

// Split is one split scheme (a fold): dataset indices of its train, val and
// test sets, each sorted. It is what the experiment folder saves (JSON).
type Split struct {
	Name  string `json:"name"`
	Train []int  `json:"train"`
	Val   []int  `json:"val"`
	Test  []int  `json:"test"`
}

// SplitManager divides a dataset, given the label of every item, into split
// schemes.
type SplitManager interface {
	Splits(labels []int) ([]Split, error)
}

// ClassDisjoint is powerful_benchmarker's ClassDisjointSplitManager. The
// sorted classes (shuffled first when Shuffle is set) lose a contiguous
// block of TestSize of them to the test set, placed by TestStartIdx as
// powerful_benchmarker v0.9.33 does (see Splits) and wrapping around; the
// remaining classes, in that order, are cut
// into NumTrainingPartitions contiguous folds as scikit-learn's KFold does,
// and split scheme i validates on fold i and trains on the others, for the
// first NumTrainingSets folds. So the test set is the same in every scheme,
// train, val and test never share a class, and the val sets are disjoint
// and cover every non-test class.
//
// OldApproach is the special scheme "old_approach": the first half of the
// classes to train, the second half to test, which also serves as val.
type ClassDisjoint struct {
	TestSize, TestStartIdx                 float64
	NumTrainingPartitions, NumTrainingSets int
	Shuffle                                bool
	RandomSeed                             uint64
	OldApproach                            bool
}

func newClassDisjoint(p *config.Params) SplitManager {
	m := ClassDisjoint{
		TestSize:              p.Float("test_size", 0.5, config.Above(0), config.Below(1)),
		TestStartIdx:          p.Float("test_start_idx", 0.5, config.Min(0), config.Below(1)),
		NumTrainingPartitions: p.Int("num_training_partitions", 4, config.Min(2)),
		NumTrainingSets:       p.Int("num_training_sets", 4, config.Min(1)),
		Shuffle:               p.Bool("shuffle", false),
		RandomSeed:            uint64(p.Int("random_seed", 0, config.Min(0))),
	}
	pbSplitParams(p)
	if m.NumTrainingSets > m.NumTrainingPartitions {
		p.Fail("num_training_sets", "%d is more than num_training_partitions (%d)", m.NumTrainingSets, m.NumTrainingPartitions)
	}
	switch s := p.String("special_split_scheme_name", ""); s {
	case "":
	case "old_approach":
		m.OldApproach = true
	default:
		p.Fail("special_split_scheme_name", "%q is not allowed; allowed: null, old_approach", s)
	}
	return m
}

// pbSplitParams reads powerful_benchmarker's split-manager parameters that
// have one meaning in bench, when a config writes them: bench's datasets
// have one level of labels, and an item is always (image, label).
func pbSplitParams(p *config.Params) {
	if p.Has("hierarchy_level") {
		p.Int("hierarchy_level", 0, config.Min(0), config.Max(0))
	}
	if p.Has("data_and_label_getter_keys") {
		if k := p.Strings("data_and_label_getter_keys", []string{"data", "label"}); len(k) != 2 || k[0] != "data" || k[1] != "label" {
			p.Fail("data_and_label_getter_keys", "only [data, label] is supported: bench's datasets give an image and its label")
		}
	}
}

// Splits implements SplitManager.
func (m ClassDisjoint) Splits(labels []int) ([]Split, error) {
	classes := sortedSet(labels)
	n := len(classes)
	if m.Shuffle {
		rng := newRNG(m.RandomSeed, streamSplit)
		rng.Shuffle(n, func(i, j int) { classes[i], classes[j] = classes[j], classes[i] })
	}
	if m.OldApproach {
		if n < 2 {
			return nil, fmt.Errorf("ClassDisjointSplitManager: old_approach needs at least 2 classes, the dataset has %d", n)
		}
		train, test := classes[:n-n/2], classes[n-n/2:]
		testIdx := itemsOf(labels, test)
		return []Split{{Name: "old_approach", Train: itemsOf(labels, train), Val: testIdx, Test: testIdx}}, nil
	}

	// As scikit-learn's train_test_split: the test set is rounded up.
	nTest := int(math.Ceil(m.TestSize * float64(n)))
	nTrainVal := n - nTest
	if nTrainVal < m.NumTrainingPartitions {
		return nil, fmt.Errorf("ClassDisjointSplitManager: %d classes: test_size %v leaves %d for train and val, fewer than num_training_partitions (%d)",
			n, m.TestSize, nTrainVal, m.NumTrainingPartitions)
	}
	// As powerful_benchmarker v0.9.33: unshuffled, the classes are rolled
	// by int(test_start_idx·n) - int(test_size·n) (numpy's roll), and the
	// test set is the last nTest of them (train_test_split without
	// shuffling); shuffled, test_start_idx plays no part.
	rolled := classes
	if !m.Shuffle {
		k := int(m.TestStartIdx*float64(n)) - int(m.TestSize*float64(n))
		rolled = make([]int, n)
		for j := range n {
			rolled[j] = classes[((j-k)%n+n)%n]
		}
	}
	trainVal, test := rolled[:nTrainVal], rolled[nTrainVal:]
	testIdx := itemsOf(labels, test)
	shuffled := ""
	if m.Shuffle {
		shuffled = "Shuffled"
	}

	// KFold: the first nTrainVal % P folds have one class more.
	P := m.NumTrainingPartitions
	splits := make([]Split, m.NumTrainingSets)
	lo := 0
	for f := range splits {
		hi := lo + nTrainVal/P
		if f < nTrainVal%P {
			hi++
		}
		train := slices.Concat(trainVal[:lo], trainVal[hi:])
		splits[f] = Split{
			Name:  fmt.Sprintf("%sTest%02d_%02d_%sPartitions%d_%d", shuffled, int(m.TestSize*100), int(m.TestStartIdx*100), shuffled, P, f),
			Train: itemsOf(labels, train),
			Val:   itemsOf(labels, trainVal[lo:hi]),
			Test:  testIdx,
		}
		lo = hi
	}
	return splits, nil
}

func sortedSet(labels []int) []int {
	set := slices.Clone(labels)
	slices.Sort(set)
	return slices.Compact(set)
}

// itemsOf returns, in order, the indices of the items whose label is one of
// classes.
func itemsOf(labels, classes []int) []int {
	in := map[int]bool{}
	for _, c := range classes {
		in[c] = true
	}
	var idx []int
	for i, l := range labels {
		if in[l] {
			idx = append(idx, i)
		}
	}
	return idx
}
