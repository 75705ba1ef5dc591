package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
)

// torchvision's ResNets (v1.5: the stride is on the 3x3 convolution of a
// bottleneck), with their parameter names: conv1, bn1, layer<s>.<b>.conv<i>,
// layer<s>.<b>.downsample.{0,1}; fc is the removed head.
func resnets() []*zooArch {
	type spec struct {
		name       string
		blocks     [4]int
		bottleneck bool
		file, sha  string
	}
	var out []*zooArch
	for _, s := range []spec{
		{"resnet18", [4]int{2, 2, 2, 2}, false, "resnet18-f37072fd.pth", "f37072fd"},
		{"resnet34", [4]int{3, 4, 6, 3}, false, "resnet34-b627a593.pth", "b627a593"},
		{"resnet50", [4]int{3, 4, 6, 3}, true, "resnet50-0676ba61.pth", "0676ba61"},
		{"resnet101", [4]int{3, 4, 23, 3}, true, "resnet101-63fe2227.pth", "63fe2227"},
	} {
		out = append(out, &zooArch{
			name: s.name,
			features: func(l layers, x *G.Node, tap func(string, *G.Node) bool) *G.Node {
				return resnetFeatures(l, x, tap, s.blocks, s.bottleneck)
			},
			layers:     []string{"layer1", "layer2", "layer3", "layer4"},
			checkpoint: Checkpoint{File: s.file, URL: "https://download.pytorch.org/models/" + s.file, SHA256: s.sha},
			norm:       ImageNetNormalization,
			head:       []string{"fc."},
			minSize:    32,
		})
	}
	return out
}

func resnetFeatures(l layers, x *G.Node, tap func(string, *G.Node) bool, blocks [4]int, bottleneck bool) *G.Node {
	x = convBNReLU(l, "conv1", "bn1", x, 64, 7, 2, false)
	x = l.poolWindow("maxpool", x, "max", window{kernel: 3, stride: 2, pad: 1})
	in := 64
	for s, n := range blocks {
		planes := 64 << s
		for j := 0; j < n; j++ {
			stride := 1
			if s > 0 && j == 0 {
				stride = 2
			}
			name := fmt.Sprintf("layer%d.%d", s+1, j)
			if bottleneck {
				x = bottleneckBlock(l, name, x, in, planes, stride)
				in = 4 * planes
			} else {
				x = basicBlock(l, name, x, in, planes, stride)
				in = planes
			}
		}
		if tap(fmt.Sprintf("layer%d", s+1), x) {
			break
		}
	}
	return x
}

// bottleneckBlock is relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x))))))))
// + shortcut(x)), 1x1, 3x3 (strided) and 1x1 convolutions widening to
// 4*planes channels, the shortcut a strided 1x1 convolution and BatchNorm
// when the shape changes.
func bottleneckBlock(l layers, name string, x *G.Node, in, planes, stride int) *G.Node {
	out := convBNReLU(l, name+".conv1", name+".bn1", x, planes, 1, 1, false)
	out = convBNReLU(l, name+".conv2", name+".bn2", out, planes, 3, stride, false)
	out = l.conv(name+".conv3", out, 4*planes, 1, 1, false)
	shortcut := x
	if stride != 1 || in != 4*planes {
		shortcut = l.batchNorm(name+".downsample.1", l.conv(name+".downsample.0", x, 4*planes, 1, stride, false))
	}
	return l.batchNormAddReLU(name+".bn3", out, shortcut)
}
