package nn

import (
	G "gorgonia.org/gorgonia"
)

// bnInception is BN-Inception as pretrainedmodels lays it out (the trunk
// powerful_benchmarker uses by default): BGR input in [0, 255] minus the
// Caffe mean, every convolution with a bias and followed by BatchNorm and
// ReLU; the parameter names are pretrainedmodels' (conv1_7x7_s2,
// inception_3a_1x1_bn, ...), last_linear the removed head. Its features are
// 1024 channels; pretrainedmodels' global pooling is a fixed 7x7 average,
// the same as bench's global average for 224-231 pixel inputs (7x7 maps).
func bnInception() *zooArch {
	return &zooArch{
		name:     "bninception",
		features: bnInceptionFeatures,
		layers: []string{"inception_3a", "inception_3b", "inception_3c", "inception_4a", "inception_4b",
			"inception_4c", "inception_4d", "inception_4e", "inception_5a", "inception_5b"},
		checkpoint: Checkpoint{
			File:   "bn_inception-52deb4733.pth",
			URL:    "http://data.lip6.fr/cadene/pretrainedmodels/bn_inception-52deb4733.pth",
			SHA256: "52deb473314542a5c2f87e9e6f26f4ca42fe863d15f986414dbae8c2dfdd2353",
		},
		norm: Normalization{Mean: [3]float64{104, 117, 128}, Std: [3]float64{1, 1, 1}, Scale: 255, BGR: true},
		head: []string{"last_linear."},
		// Smaller maps leave the reduction modules' pools nothing to pool.
		// (Like pretrainedmodels, sizes whose 3c or 4e branches differ in
		// size by rounding are refused: 224 and 227 work.)
		minSize: 64,
	}
}

// bnInceptionBlock lists one inception module's branch widths; 0 leaves a
// branch out. The 3x3 and double-3x3 branches stride 2 in the reduction
// modules (3c, 4e), whose pooling branch is a strided max pool without
// projection.
type bnInceptionBlock struct {
	name            string
	b1x1            int
	reduce3, b3     int
	reduceD, d1, d2 int
	pool            string // "avg", "max" or "" (reduction: strided max pool)
	proj            int
}

var bnInceptionBlocks = []bnInceptionBlock{
	{"inception_3a", 64, 64, 64, 64, 96, 96, "avg", 32},
	{"inception_3b", 64, 64, 96, 64, 96, 96, "avg", 64},
	{"inception_3c", 0, 128, 160, 64, 96, 96, "", 0},
	{"inception_4a", 224, 64, 96, 96, 128, 128, "avg", 128},
	{"inception_4b", 192, 96, 128, 96, 128, 128, "avg", 128},
	{"inception_4c", 160, 128, 160, 128, 160, 160, "avg", 128},
	{"inception_4d", 96, 128, 192, 160, 192, 192, "avg", 128},
	{"inception_4e", 0, 128, 192, 192, 256, 256, "", 0},
	{"inception_5a", 352, 192, 320, 160, 224, 224, "avg", 128},
	{"inception_5b", 352, 192, 320, 192, 224, 224, "max", 128},
}

func bnInceptionFeatures(l layers, x *G.Node, tap func(string, *G.Node) bool) *G.Node {
	unit := func(name string, x *G.Node, out, kernel, stride int) *G.Node {
		return convBNReLU(l, name, name+"_bn", x, out, kernel, stride, true)
	}
	ceil3s2 := window{kernel: 3, stride: 2, ceil: true}
	x = unit("conv1_7x7_s2", x, 64, 7, 2)
	x = l.poolWindow("pool1_3x3_s2", x, "max", ceil3s2)
	x = unit("conv2_3x3_reduce", x, 64, 1, 1)
	x = unit("conv2_3x3", x, 192, 3, 1)
	x = l.poolWindow("pool2_3x3_s2", x, "max", ceil3s2)
	for _, b := range bnInceptionBlocks {
		n := b.name
		stride := 1
		if b.pool == "" {
			stride = 2
		}
		var branches []*G.Node
		if b.b1x1 > 0 {
			branches = append(branches, unit(n+"_1x1", x, b.b1x1, 1, 1))
		}
		branches = append(branches,
			unit(n+"_3x3", unit(n+"_3x3_reduce", x, b.reduce3, 1, 1), b.b3, 3, stride),
			unit(n+"_double_3x3_2", unit(n+"_double_3x3_1", unit(n+"_double_3x3_reduce", x, b.reduceD, 1, 1), b.d1, 3, 1), b.d2, 3, stride))
		if b.pool == "" {
			branches = append(branches, l.poolWindow(n+"_pool", x, "max", ceil3s2))
		} else {
			pooled := l.poolWindow(n+"_pool", x, b.pool, window{kernel: 3, stride: 1, pad: 1, ceil: true})
			branches = append(branches, unit(n+"_pool_proj", pooled, b.proj, 1, 1))
		}
		x = l.concat(n+"_output", branches...)
		if tap(n, x) {
			break
		}
	}
	return x
}
