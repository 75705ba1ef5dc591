package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/bench-ml/bench/internal/config"
)

// ConvNet is a small image trunk: one block per entry of Channels, each a
// "same" convolution, BatchNorm (optional), ReLU and 2x2 pooling, then global
// average pooling, so the output is a vector of Channels[last] features.
// With BatchNorm the convolutions have no bias (BatchNorm's beta replaces it).
type ConvNet struct {
	Channels   []int
	KernelSize int
	BatchNorm  bool
	Pool       string // "max" or "avg"
	Pretrained string // safetensors file, or ""
	origin
}

func newConvNet(p *config.Params) Trunk {
	c := &ConvNet{
		Channels:   p.Ints("channels", []int{32, 64, 128}, config.Min(1)),
		KernelSize: p.Int("kernel_size", 3, config.Min(1)),
		BatchNorm:  p.Bool("batchnorm", true),
		Pool:       p.String("pool", "max", "max", "avg"),
		Pretrained: p.String("pretrained", ""),
		origin:     originOf(p),
	}
	if len(c.Channels) == 0 {
		p.Fail("channels", "want at least one block")
	}
	if c.KernelSize%2 == 0 {
		p.Fail("kernel_size", "%d is even; want an odd size so that padding keeps the resolution", c.KernelSize)
	}
	return c
}

func (c *ConvNet) inputShape(example []int) ([]int, error) {
	if len(example) != 3 {
		return nil, c.errorf("", "takes images (channels x height x width), got examples of shape %v", example)
	}
	h, w := example[1], example[2]
	for i := range c.Channels {
		h, w = h/2, w/2
		if h == 0 || w == 0 {
			return nil, c.errorf("channels", "%d blocks each halve the resolution: too many for %dx%d images (at most %d)",
				len(c.Channels), example[1], example[2], i)
		}
	}
	return example, nil
}

func (c *ConvNet) build(l layers, x *G.Node) *G.Node {
	for i, ch := range c.Channels {
		name := fmt.Sprintf("blocks.%d", i)
		x = l.conv(name+".conv", x, ch, c.KernelSize, 1, !c.BatchNorm)
		if c.BatchNorm {
			x = l.batchNormReLU(name+".bn", x)
		} else {
			x = l.relu(x)
		}
		x = l.pool(name+".pool", x, c.Pool)
	}
	return l.meanPool("pool", x)
}

func (c *ConvNet) pretrained() string { return c.Pretrained }
