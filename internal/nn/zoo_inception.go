package nn

import (
	G "gorgonia.org/gorgonia"
)

// inceptionV3 is torchvision's Inception v3 with its names (Conv2d_1a_3x3,
// Mixed_5b.branch1x1, Mixed_6b.branch7x7_2, ...): convolutions without bias
// (some unpadded, some 1x7, 7x1, 1x3 and 3x1), BatchNorm with eps 0.001,
// 2048 global-pooled features. fc and the auxiliary classifier (AuxLogits)
// are the removed head; like googlenet, the dropout before fc is left out
// (an embedder follows). layers_to_extract names the Mixed blocks and fc,
// the pooled output that replaces the classifier.
func inceptionV3() *zooArch {
	return &zooArch{
		name:     "inception_v3",
		features: inceptionV3Features,
		layers: []string{"Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c",
			"Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c", "fc"},
		checkpoint: Checkpoint{
			File:   "inception_v3_google-0cc3c7bd.pth",
			URL:    "https://download.pytorch.org/models/inception_v3_google-0cc3c7bd.pth",
			SHA256: "0cc3c7bd",
		},
		norm:           googleNormalization,
		transformInput: true,
		head:           []string{"fc.", "AuxLogits."},
		// The smallest input that leaves Mixed_7a's unpadded stride-2
		// convolutions a 3x3 map.
		minSize: 75,
	}
}

// inceptionNet adds Inception v3's units to l.
type inceptionNet struct{ l layers }

// basic is torchvision's BasicConv2d: conv (no bias), BatchNorm, ReLU.
func (n inceptionNet) basic(name string, x *G.Node, out int, c convShape) *G.Node {
	return n.l.relu(n.l.batchNormEps(name+".bn", n.l.convRect(name+".conv", x, out, c), 0.001))
}

// convSquare is a k x k kernel; convRow and convCol are 1 x k and k x 1 with the
// padding that keeps the map's size.
func convSquare(k, stride, pad int) convShape {
	return convShape{kh: k, kw: k, stride: stride, ph: pad, pw: pad}
}
func convRow(k int) convShape { return convShape{kh: 1, kw: k, stride: 1, pw: k / 2} }
func convCol(k int) convShape { return convShape{kh: k, kw: 1, stride: 1, ph: k / 2} }

var conv1x1 = convSquare(1, 1, 0)

// avgPool is the pooling branch's 3x3 average (padding counted).
func (n inceptionNet) avgPool(name string, x *G.Node) *G.Node {
	return n.l.poolWindow(name, x, "avg", window{kernel: 3, stride: 1, pad: 1})
}

// maxDown is the unpadded 3x3 stride-2 max pool.
func (n inceptionNet) maxDown(name string, x *G.Node) *G.Node {
	return n.l.poolWindow(name, x, "max", window{kernel: 3, stride: 2})
}

func inceptionV3Features(l layers, x *G.Node, tap func(string, *G.Node) bool) *G.Node {
	n := inceptionNet{l}
	x = n.basic("Conv2d_1a_3x3", x, 32, convSquare(3, 2, 0))
	x = n.basic("Conv2d_2a_3x3", x, 32, convSquare(3, 1, 0))
	x = n.basic("Conv2d_2b_3x3", x, 64, convSquare(3, 1, 1))
	x = n.maxDown("maxpool1", x)
	x = n.basic("Conv2d_3b_1x1", x, 80, conv1x1)
	x = n.basic("Conv2d_4a_3x3", x, 192, convSquare(3, 1, 0))
	x = n.maxDown("maxpool2", x)
	blocks := []struct {
		name  string
		block func(name string, x *G.Node) *G.Node
	}{
		{"Mixed_5b", func(b string, x *G.Node) *G.Node { return n.a(b, x, 32) }},
		{"Mixed_5c", func(b string, x *G.Node) *G.Node { return n.a(b, x, 64) }},
		{"Mixed_5d", func(b string, x *G.Node) *G.Node { return n.a(b, x, 64) }},
		{"Mixed_6a", n.b},
		{"Mixed_6b", func(b string, x *G.Node) *G.Node { return n.c(b, x, 128) }},
		{"Mixed_6c", func(b string, x *G.Node) *G.Node { return n.c(b, x, 160) }},
		{"Mixed_6d", func(b string, x *G.Node) *G.Node { return n.c(b, x, 160) }},
		{"Mixed_6e", func(b string, x *G.Node) *G.Node { return n.c(b, x, 192) }},
		{"Mixed_7a", n.d},
		{"Mixed_7b", n.e},
		{"Mixed_7c", n.e},
	}
	for _, b := range blocks {
		x = b.block(b.name, x)
		if tap(b.name, x) {
			return x
		}
	}
	tap("fc", x) // pooled by the caller, as the classifier's input
	return x
}

// a (InceptionA): 1x1, 5x5 and double 3x3 branches and a projected
// average pool.
func (n inceptionNet) a(b string, x *G.Node, poolFeatures int) *G.Node {
	b5 := n.basic(b+".branch5x5_2", n.basic(b+".branch5x5_1", x, 48, conv1x1), 64, convSquare(5, 1, 2))
	d := n.basic(b+".branch3x3dbl_1", x, 64, conv1x1)
	d = n.basic(b+".branch3x3dbl_3", n.basic(b+".branch3x3dbl_2", d, 96, convSquare(3, 1, 1)), 96, convSquare(3, 1, 1))
	return n.l.concat(b+".output", n.basic(b+".branch1x1", x, 64, conv1x1), b5, d,
		n.basic(b+".branch_pool", n.avgPool(b+".avg_pool", x), poolFeatures, conv1x1))
}

// b (InceptionB): the 35 to 17 reduction, unpadded stride-2 convolutions
// beside a max pool.
func (n inceptionNet) b(b string, x *G.Node) *G.Node {
	d := n.basic(b+".branch3x3dbl_2", n.basic(b+".branch3x3dbl_1", x, 64, conv1x1), 96, convSquare(3, 1, 1))
	return n.l.concat(b+".output",
		n.basic(b+".branch3x3", x, 384, convSquare(3, 2, 0)),
		n.basic(b+".branch3x3dbl_3", d, 96, convSquare(3, 2, 0)),
		n.maxDown(b+".max_pool", x))
}

// c (InceptionC): the 7x7 convolutions factorised into 1x7 and 7x1.
func (n inceptionNet) c(b string, x *G.Node, c7 int) *G.Node {
	b7 := n.basic(b+".branch7x7_1", x, c7, conv1x1)
	b7 = n.basic(b+".branch7x7_3", n.basic(b+".branch7x7_2", b7, c7, convRow(7)), 192, convCol(7))
	d := n.basic(b+".branch7x7dbl_1", x, c7, conv1x1)
	d = n.basic(b+".branch7x7dbl_3", n.basic(b+".branch7x7dbl_2", d, c7, convCol(7)), c7, convRow(7))
	d = n.basic(b+".branch7x7dbl_5", n.basic(b+".branch7x7dbl_4", d, c7, convCol(7)), 192, convRow(7))
	return n.l.concat(b+".output", n.basic(b+".branch1x1", x, 192, conv1x1), b7, d,
		n.basic(b+".branch_pool", n.avgPool(b+".avg_pool", x), 192, conv1x1))
}

// d (InceptionD): the 17 to 8 reduction.
func (n inceptionNet) d(b string, x *G.Node) *G.Node {
	b3 := n.basic(b+".branch3x3_2", n.basic(b+".branch3x3_1", x, 192, conv1x1), 320, convSquare(3, 2, 0))
	b7 := n.basic(b+".branch7x7x3_1", x, 192, conv1x1)
	b7 = n.basic(b+".branch7x7x3_3", n.basic(b+".branch7x7x3_2", b7, 192, convRow(7)), 192, convCol(7))
	b7 = n.basic(b+".branch7x7x3_4", b7, 192, convSquare(3, 2, 0))
	return n.l.concat(b+".output", b3, b7, n.maxDown(b+".max_pool", x))
}

// e (InceptionE): 3x3 branches that end in parallel 1x3 and 3x1 outputs.
func (n inceptionNet) e(b string, x *G.Node) *G.Node {
	b3 := n.basic(b+".branch3x3_1", x, 384, conv1x1)
	b3 = n.l.concat(b+".branch3x3", n.basic(b+".branch3x3_2a", b3, 384, convRow(3)), n.basic(b+".branch3x3_2b", b3, 384, convCol(3)))
	d := n.basic(b+".branch3x3dbl_2", n.basic(b+".branch3x3dbl_1", x, 448, conv1x1), 384, convSquare(3, 1, 1))
	d = n.l.concat(b+".branch3x3dbl", n.basic(b+".branch3x3dbl_3a", d, 384, convRow(3)), n.basic(b+".branch3x3dbl_3b", d, 384, convCol(3)))
	return n.l.concat(b+".output", n.basic(b+".branch1x1", x, 320, conv1x1), b3, d,
		n.basic(b+".branch_pool", n.avgPool(b+".avg_pool", x), 192, conv1x1))
}
