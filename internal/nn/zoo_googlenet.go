package nn

import (
	G "gorgonia.org/gorgonia"
)

// googLeNet is torchvision's GoogLeNet with its names (conv1.conv,
// conv1.bn, inception3a.branch2.1.conv, ...): convolutions without bias,
// BatchNorm with eps 0.001, and, like torchvision, a 3x3 convolution where
// the paper's 5x5 branch is. fc and the auxiliary heads (aux1, aux2) are
// the removed head. transform_input is torchvision's (see Zoo).
func googLeNet() *zooArch {
	return &zooArch{
		name:     "googlenet",
		features: googLeNetFeatures,
		layers: []string{"inception3a", "inception3b", "inception4a", "inception4b", "inception4c",
			"inception4d", "inception4e", "inception5a", "inception5b"},
		checkpoint:     Checkpoint{File: "googlenet-1378be20.pth", URL: "https://download.pytorch.org/models/googlenet-1378be20.pth", SHA256: "1378be20"},
		norm:           googleNormalization,
		transformInput: true,
		head:           []string{"fc.", "aux1.", "aux2."},
		minSize:        32,
	}
}

// googLeNetBlocks: name, 1x1, 3x3 reduce, 3x3, "5x5" reduce, "5x5", pool
// projection; a max pool (kernel, stride 2) comes before the blocks that
// name one.
var googLeNetBlocks = []struct {
	name                     string
	b1, r3, b3, r5, b5, proj int
	poolBefore               string
	poolKernel               int
}{
	{"inception3a", 64, 96, 128, 16, 32, 32, "", 0},
	{"inception3b", 128, 128, 192, 32, 96, 64, "", 0},
	{"inception4a", 192, 96, 208, 16, 48, 64, "maxpool3", 3},
	{"inception4b", 160, 112, 224, 24, 64, 64, "", 0},
	{"inception4c", 128, 128, 256, 24, 64, 64, "", 0},
	{"inception4d", 112, 144, 288, 32, 64, 64, "", 0},
	{"inception4e", 256, 160, 320, 32, 128, 128, "", 0},
	{"inception5a", 256, 160, 320, 32, 128, 128, "maxpool4", 2},
	{"inception5b", 384, 192, 384, 48, 128, 128, "", 0},
}

func googLeNetFeatures(l layers, x *G.Node, tap func(string, *G.Node) bool) *G.Node {
	basic := func(name string, x *G.Node, out, kernel, stride int) *G.Node {
		return l.relu(l.batchNormEps(name+".bn", l.conv(name+".conv", x, out, kernel, stride, false), 0.001))
	}
	x = basic("conv1", x, 64, 7, 2)
	x = l.poolWindow("maxpool1", x, "max", window{kernel: 3, stride: 2, ceil: true})
	x = basic("conv3", basic("conv2", x, 64, 1, 1), 192, 3, 1)
	x = l.poolWindow("maxpool2", x, "max", window{kernel: 3, stride: 2, ceil: true})
	for _, b := range googLeNetBlocks {
		if b.poolBefore != "" {
			x = l.poolWindow(b.poolBefore, x, "max", window{kernel: b.poolKernel, stride: 2, ceil: true})
		}
		n := b.name
		pooled := l.poolWindow(n+".branch4.0", x, "max", window{kernel: 3, stride: 1, pad: 1, ceil: true})
		x = l.concat(n+".output",
			basic(n+".branch1", x, b.b1, 1, 1),
			basic(n+".branch2.1", basic(n+".branch2.0", x, b.r3, 1, 1), b.b3, 3, 1),
			basic(n+".branch3.1", basic(n+".branch3.0", x, b.r5, 1, 1), b.b5, 3, 1),
			basic(n+".branch4.1", pooled, b.proj, 1, 1))
		if tap(n, x) {
			break
		}
	}
	return x
}
