package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/bench-ml/bench/internal/config"
)

// ResNet is a small residual trunk for low-resolution images (the CIFAR
// style of He et al.): a 3x3 convolution stem, one stage of Blocks basic
// blocks per entry of Channels (every stage after the first halves the
// resolution with a stride-2 first block), then global average pooling.
// Parameter names follow torchvision (conv1, bn1, layer1.0.conv1, ...,
// layerN.0.downsample.{0,1}).
type ResNet struct {
	Channels   []int
	Blocks     int
	Pretrained string
	origin
}

func newResNet(p *config.Params) Trunk {
	r := &ResNet{
		Channels:   p.Ints("channels", []int{32, 64, 128}, config.Min(1)),
		Blocks:     p.Int("blocks", 1, config.Min(1)),
		Pretrained: p.String("pretrained", ""),
		origin:     originOf(p),
	}
	if len(r.Channels) == 0 {
		p.Fail("channels", "want at least one stage")
	}
	return r
}

func (r *ResNet) inputShape(example []int) ([]int, error) {
	if len(example) != 3 {
		return nil, r.errorf("", "takes images (channels x height x width), got examples of shape %v", example)
	}
	return example, nil
}

func (r *ResNet) build(l layers, x *G.Node) *G.Node {
	x = l.batchNormReLU("bn1", l.conv("conv1", x, r.Channels[0], 3, 1, false))
	in := r.Channels[0]
	for s, ch := range r.Channels {
		for j := 0; j < r.Blocks; j++ {
			stride := 1
			if s > 0 && j == 0 {
				stride = 2
			}
			x = basicBlock(l, fmt.Sprintf("layer%d.%d", s+1, j), x, in, ch, stride)
			in = ch
		}
	}
	return l.meanPool("avgpool", x)
}

// basicBlock is relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), the
// shortcut a strided 1x1 convolution and BatchNorm when the shape changes.
func basicBlock(l layers, name string, x *G.Node, in, channels, stride int) *G.Node {
	out := l.batchNormReLU(name+".bn1", l.conv(name+".conv1", x, channels, 3, stride, false))
	out = l.conv(name+".conv2", out, channels, 3, 1, false)
	shortcut := x
	if stride != 1 || in != channels {
		shortcut = l.batchNorm(name+".downsample.1", l.conv(name+".downsample.0", x, channels, 1, stride, false))
	}
	return l.batchNormAddReLU(name+".bn2", out, shortcut)
}

func (r *ResNet) pretrained() string { return r.Pretrained }
