// Package data provides what feeds the trainer and the tester: datasets,
// class-disjoint split schemes, batch samplers, image transforms and a
// parallel, prefetching batch loader. Every random choice is a pure function
// of (seed, step, item), so batches are reproducible whatever the number of
// workers and a resumed run continues exactly.
package data

import (
	"fmt"
	"image"
	"image/color"
	"log/slog"
	"path/filepath"
	"slices"
	"sort"
)

// Shape is the shape of one image as the model sees it: channels, height,
// width. H and W are 0 where they are not known before an image is loaded
// (a dataset whose images differ in size).
type Shape struct{ C, H, W int }

func (s Shape) String() string { return fmt.Sprintf("%dx%dx%d", s.C, s.H, s.W) }

// Dataset is a labelled image collection. Labels are 0..len(Classes())-1 in
// the sorted order of the class names, so that sorting labels sorts classes.
// All methods are safe for concurrent use.
type Dataset interface {
	Len() int
	Label(i int) int
	// Image returns item i decoded. Small datasets keep every image in
	// memory; large ones read the file here, hence the error, which names
	// the file (Source(i)).
	Image(i int) (image.Image, error)
	// Source names where item i came from (a file, or a zip and its entry),
	// for messages and records.
	Source(i int) string
	Classes() []string
	// Shape is 1 or 3 channels and the image size (0x0 if sizes differ).
	Shape() Shape
}

// Hierarchical is a dataset whose items have labels at several levels:
// level 0 is Label, level 1 a coarser class containing it (SOP's
// super-class), and so on. Every dataset here implements it, most with one
// level.
type Hierarchical interface {
	LabelLevels() int
	LabelAt(level, i int) int
	ClassesAt(level int) []string
}

// Partitioned is a dataset that comes divided by its authors (SOP's
// Ebay_train and Ebay_test lists): item indices by partition name, nil when
// it does not.
type Partitioned interface {
	Partitions() map[string][]int
}

// LabelsAt returns the label of every item at a level of the dataset's
// label hierarchy; level 0 is Labels.
func LabelsAt(ds Dataset, level int) ([]int, error) {
	h, ok := ds.(Hierarchical)
	if !ok && level == 0 {
		return Labels(ds), nil
	}
	if !ok || level >= h.LabelLevels() {
		return nil, fmt.Errorf("label hierarchy level %d: the dataset has %d level(s) of labels", level, levels(ds))
	}
	labels := make([]int, ds.Len())
	for i := range labels {
		labels[i] = h.LabelAt(level, i)
	}
	return labels, nil
}

func levels(ds Dataset) int {
	if h, ok := ds.(Hierarchical); ok {
		return h.LabelLevels()
	}
	return 1
}

// AtLevel is ds labelled at a level of its hierarchy: Label and Classes are
// those of the level, LabelAt still reads every level.
func AtLevel(ds Dataset, level int) (Dataset, error) {
	if _, ok := ds.(*atLevel); !ok && level == 0 {
		return ds, nil
	}
	labels, err := LabelsAt(ds, level)
	if err != nil {
		return nil, err
	}
	return &atLevel{Dataset: ds, labels: labels, classes: ds.(Hierarchical).ClassesAt(level)}, nil
}

type atLevel struct {
	Dataset
	labels  []int
	classes []string
}

func (d *atLevel) Label(i int) int              { return d.labels[i] }
func (d *atLevel) Classes() []string            { return d.classes }
func (d *atLevel) LabelLevels() int             { return d.Dataset.(Hierarchical).LabelLevels() }
func (d *atLevel) LabelAt(level, i int) int     { return d.Dataset.(Hierarchical).LabelAt(level, i) }
func (d *atLevel) ClassesAt(level int) []string { return d.Dataset.(Hierarchical).ClassesAt(level) }
func (d *atLevel) Partitions() map[string][]int { return partitions(d.Dataset) }

// partitions is a dataset's predefined partitions, nil when it has none.
func partitions(ds Dataset) map[string][]int {
	if p, ok := ds.(Partitioned); ok {
		return p.Partitions()
	}
	return nil
}

// Opener opens a configured dataset under the dataset root folder
// (--dataset_root). Decoding the config yields an Opener, so config errors
// surface before any file is read.
type Opener func(root string) (Dataset, error)

// underRoot resolves a dataset folder given in a config: relative to the
// dataset root, so that a config works on any machine given --dataset_root.
func underRoot(datasetRoot, dir string) string {
	if filepath.IsAbs(dir) {
		return dir
	}
	return filepath.Join(datasetRoot, dir)
}

// Labels returns the label of every item, in item order.
func Labels(ds Dataset) []int {
	labels := make([]int, ds.Len())
	for i := range labels {
		labels[i] = ds.Label(i)
	}
	return labels
}

// item is one image of a dataset being assembled: decoded for an in-memory
// dataset, img nil for one read from files on demand.
type item struct {
	class  string
	source string
	img    image.Image
	// parents are the item's coarser class names, level 1 first (SOP's
	// super-class); every item of a dataset has as many.
	parents []string
	// part names the partition the dataset's authors put the item in
	// (SOP's "train" and "test" lists); "" when it has none.
	part string
}

// catalog is the part every dataset here shares: items ordered by (class,
// source), classes labelled in sorted order.
type catalog struct {
	classes []string
	labels  []int
	sources []string
	// upper holds the labels of the levels above 0, upper[level-1][i],
	// each level numbered in the sorted order of its class names.
	upper      [][]int
	upperNames [][]string
	parts      map[string][]int // item indices of each predefined partition
}

// LabelLevels implements Hierarchical.
func (c *catalog) LabelLevels() int { return 1 + len(c.upper) }

// LabelAt implements Hierarchical.
func (c *catalog) LabelAt(level, i int) int {
	if level == 0 {
		return c.labels[i]
	}
	return c.upper[level-1][i]
}

// ClassesAt implements Hierarchical.
func (c *catalog) ClassesAt(level int) []string {
	if level == 0 {
		return c.classes
	}
	return c.upperNames[level-1]
}

// Partitions implements Partitioned.
func (c *catalog) Partitions() map[string][]int { return c.parts }

func (c *catalog) Len() int            { return len(c.labels) }
func (c *catalog) Label(i int) int     { return c.labels[i] }
func (c *catalog) Source(i int) string { return c.sources[i] }
func (c *catalog) Classes() []string   { return c.classes }

// newCatalog orders items by (class, source) and labels the classes in
// sorted order; it returns the items kept, in that order. A class with a
// single image can be neither a query with a positive nor a valid
// metric-learning class, so such classes are dropped and their number
// logged; where names the dataset in that line.
func newCatalog(where string, items []item) (catalog, []item, error) {
	sort.Slice(items, func(a, b int) bool {
		if items[a].class != items[b].class {
			return items[a].class < items[b].class
		}
		return items[a].source < items[b].source
	})
	count := map[string]int{}
	for _, it := range items {
		count[it.class]++
	}
	var c catalog
	var kept []item
	var skipped []string
	for _, it := range items {
		if count[it.class] < 2 {
			skipped = append(skipped, it.class)
			continue
		}
		if len(c.classes) == 0 || c.classes[len(c.classes)-1] != it.class {
			c.classes = append(c.classes, it.class)
		}
		c.labels = append(c.labels, len(c.classes)-1)
		c.sources = append(c.sources, it.source)
		if it.part != "" {
			if c.parts == nil {
				c.parts = map[string][]int{}
			}
			c.parts[it.part] = append(c.parts[it.part], len(kept))
		}
		kept = append(kept, it)
	}
	if len(kept) > 0 {
		for level := range kept[0].parents {
			names := make([]string, len(kept))
			for i, it := range kept {
				names[i] = it.parents[level]
			}
			set := sortedSet(names)
			labels := make([]int, len(kept))
			for i, n := range names {
				labels[i], _ = slices.BinarySearch(set, n)
			}
			c.upper, c.upperNames = append(c.upper, labels), append(c.upperNames, set)
		}
	}
	if len(skipped) > 0 {
		slog.Warn("skipped classes with a single image", "dataset", where, "count", len(skipped), "first", skipped[0])
	}
	if len(c.classes) < 2 {
		return catalog{}, nil, fmt.Errorf("%s: %d classes with at least 2 images, need at least 2", where, len(c.classes))
	}
	return c, kept, nil
}

// memDataset holds decoded images in memory, or their output of fixed
// transforms (Precompute).
type memDataset struct {
	catalog
	images []image.Image
	shape  Shape
}

func (d *memDataset) Image(i int) (image.Image, error) {
	if g, ok := d.images[i].(greyNRGBA); ok {
		return g.expand(), nil
	}
	return d.images[i], nil
}

func (d *memDataset) Shape() Shape { return d.shape }

// newMemDataset labels items as newCatalog does and keeps their images.
func newMemDataset(where string, items []item) (*memDataset, error) {
	c, kept, err := newCatalog(where, items)
	if err != nil {
		return nil, err
	}
	d := &memDataset{catalog: c, images: make([]image.Image, len(kept))}
	for i, it := range kept {
		d.images[i] = it.img
	}
	d.shape = imageShape(d.images)
	return d, nil
}

// imageShape is 1 channel when every image is grayscale (else 3), and the
// common size, or 0x0 when sizes differ.
func imageShape(images []image.Image) Shape {
	s := Shape{C: 1}
	for i, img := range images {
		switch img.ColorModel() {
		case color.GrayModel, color.Gray16Model:
		default:
			s.C = 3
		}
		b := img.Bounds()
		if i == 0 {
			s.H, s.W = b.Dy(), b.Dx()
		} else if s.H != b.Dy() || s.W != b.Dx() {
			s.H, s.W = 0, 0
		}
	}
	return s
}
