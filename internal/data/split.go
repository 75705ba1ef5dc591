package data

import (
	"cmp"
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

// SplitManager divides a dataset into split schemes.
type SplitManager interface {
	Splits(ds Dataset) ([]Split, error)
}

// ClassDisjoint is powerful_benchmarker's ClassDisjointSplitManager, and,
// with ByItem, its IndexSplitManager. The sorted classes at HierarchyLevel
// of the dataset's labels (its items, with ByItem), shuffled first when
// Shuffle is set, lose a contiguous block of TestSize of them to the test
// set, placed by TestStartIdx as powerful_benchmarker v0.9.33 does (see
// Splits) and wrapping around; the remaining classes, in that order, are
// cut into NumTrainingPartitions contiguous folds as scikit-learn's KFold
// does, and split scheme i validates on fold i and trains on the others,
// for the first NumTrainingSets folds. So the test set is the same in every
// scheme, train, val and test never share a class, and the val sets are
// disjoint and cover every non-test class.
//
// OldApproach is the special scheme "old_approach": the first half of the
// classes to train, the second half to test, which also serves as val.
// Predefined is the special scheme "predefined": the dataset's own
// partitions (predefinedSplit).
type ClassDisjoint struct {
	TestSize, TestStartIdx                 float64
	NumTrainingPartitions, NumTrainingSets int
	Shuffle                                bool
	RandomSeed                             uint64
	HierarchyLevel                         int
	ByItem                                 bool
	OldApproach, Predefined                bool
}

func newClassDisjoint(p *config.Params) SplitManager {
	m := indexParams(p)
	switch s := p.String("special_split_scheme_name", ""); s {
	case "":
	case "old_approach":
		m.OldApproach = true
	case "predefined":
		m.Predefined = true
	default:
		p.Fail("special_split_scheme_name", "%q is not allowed; allowed: null, old_approach, predefined", s)
	}
	return m
}

func newIndex(p *config.Params) SplitManager {
	m := indexParams(p)
	m.ByItem = true
	return m
}

// indexParams reads the parameters powerful_benchmarker's IndexSplitManager
// and its subclasses share.
func indexParams(p *config.Params) ClassDisjoint {
	m := ClassDisjoint{
		TestSize:              p.Float("test_size", 0.5, config.Above(0), config.Below(1)),
		TestStartIdx:          p.Float("test_start_idx", 0.5, config.Min(0), config.Below(1)),
		NumTrainingPartitions: p.Int("num_training_partitions", 4, config.Min(2)),
		NumTrainingSets:       p.Int("num_training_sets", 4, config.Min(1)),
		Shuffle:               p.Bool("shuffle", false),
		RandomSeed:            uint64(p.Int("random_seed", 0, config.Min(0))),
		HierarchyLevel:        pbSplitParams(p),
	}
	if m.NumTrainingSets > m.NumTrainingPartitions {
		p.Fail("num_training_sets", "%d is more than num_training_partitions (%d)", m.NumTrainingSets, m.NumTrainingPartitions)
	}
	return m
}

// pbSplitParams reads powerful_benchmarker's split-manager parameters every
// split manager has (its BaseSplitManager's): the level of the label
// hierarchy to split on, which it returns, and data_and_label_getter_keys,
// labels_attr_name and label_set_attr_name, which have one value in bench
// (an item is always an image and its label, the labels are the dataset's).
func pbSplitParams(p *config.Params) int {
	if p.Has("data_and_label_getter_keys") {
		if k := p.Strings("data_and_label_getter_keys", []string{"data", "label"}); len(k) != 2 || k[0] != "data" || k[1] != "label" {
			p.Fail("data_and_label_getter_keys", "only [data, label] is supported: bench's datasets give an image and its label")
		}
	}
	if p.Has("labels_attr_name") {
		p.String("labels_attr_name", "labels", "labels")
	}
	if p.Has("label_set_attr_name") {
		p.Null("label_set_attr_name", "bench's split managers take the label set from the labels")
	}
	return p.Int("hierarchy_level", 0, config.Min(0))
}

// units are what a split manager distributes, classes or items, and the
// items of a set of them.
type units struct {
	list  []int // sorted
	items func(set []int) []int
}

func (m ClassDisjoint) units(ds Dataset) (units, error) {
	labels, err := LabelsAt(ds, m.HierarchyLevel)
	if err != nil {
		return units{}, err
	}
	if m.ByItem {
		list := make([]int, len(labels))
		for i := range list {
			list[i] = i
		}
		return units{list, func(set []int) []int { return slices.Sorted(slices.Values(set)) }}, nil
	}
	return units{sortedSet(labels), func(set []int) []int { return itemsOf(labels, set) }}, nil
}

func (m ClassDisjoint) name() string {
	if m.ByItem {
		return "IndexSplitManager"
	}
	return "ClassDisjointSplitManager"
}

// schemeName is powerful_benchmarker's name of split scheme f.
func (m ClassDisjoint) schemeName(f int) string {
	shuffled := ""
	if m.Shuffle {
		shuffled = "Shuffled"
	}
	return fmt.Sprintf("%sTest%02d_%02d_%sPartitions%d_%d", shuffled, int(m.TestSize*100), int(m.TestStartIdx*100), shuffled, m.NumTrainingPartitions, f)
}

// ordered is the units in the order the test set is cut from: shuffled,
// or, unshuffled, rolled by int(test_start_idx·n) - int(test_size·n) as
// powerful_benchmarker v0.9.33 does (numpy's roll) before taking the test
// set from the end (scikit-learn's train_test_split without shuffling).
func (m ClassDisjoint) ordered(list []int) []int {
	n := len(list)
	out := slices.Clone(list)
	if m.Shuffle {
		rng := newRNG(m.RandomSeed, streamSplit)
		rng.Shuffle(n, func(i, j int) { out[i], out[j] = out[j], out[i] })
		return out
	}
	k := int(m.TestStartIdx*float64(n)) - int(m.TestSize*float64(n))
	for j := range n {
		out[j] = list[((j-k)%n+n)%n]
	}
	return out
}

// Splits implements SplitManager.
func (m ClassDisjoint) Splits(ds Dataset) ([]Split, error) {
	if m.Predefined {
		return predefinedSplit(ds, "predefined", m.name())
	}
	u, err := m.units(ds)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.name(), err)
	}
	classes := u.list
	n := len(classes)
	if m.OldApproach {
		if m.Shuffle {
			classes = m.ordered(classes)
		}
		if n < 2 {
			return nil, fmt.Errorf("%s: old_approach needs at least 2 classes, the dataset has %d", m.name(), n)
		}
		train, test := classes[:n-n/2], classes[n-n/2:]
		testIdx := u.items(test)
		return []Split{{Name: "old_approach", Train: u.items(train), Val: testIdx, Test: testIdx}}, nil
	}

	// As scikit-learn's train_test_split: the test set is rounded up.
	nTest := int(math.Ceil(m.TestSize * float64(n)))
	nTrainVal := n - nTest
	if nTrainVal < m.NumTrainingPartitions {
		return nil, fmt.Errorf("%s: %d classes: test_size %v leaves %d for train and val, fewer than num_training_partitions (%d)",
			m.name(), n, m.TestSize, nTrainVal, m.NumTrainingPartitions)
	}
	rolled := m.ordered(classes)
	trainVal, test := rolled[:nTrainVal], rolled[nTrainVal:]
	testIdx := u.items(test)

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
		splits[f] = Split{Name: m.schemeName(f), Train: u.items(train), Val: u.items(trainVal[lo:hi]), Test: testIdx}
		lo = hi
	}
	return splits, nil
}

func sortedSet[T cmp.Ordered](labels []T) []T {
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
