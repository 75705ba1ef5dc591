package nn

import (
	"os"
	"path/filepath"
	"slices"
	"strings"

	G "gorgonia.org/gorgonia"

	"github.com/bench-ml/bench/internal/config"
)

// The model zoo: ImageNet architectures with the layouts and parameter
// names of torchvision and pretrainedmodels, so that their published
// checkpoints load as they are. Each is a trunk whose output is the
// globally average-pooled last feature map, the classifier head removed as
// powerful_benchmarker does.

// Checkpoint is where an architecture's ImageNet weights are published.
type Checkpoint struct {
	File string // torch.hub's file name, under <torch home>/hub/checkpoints
	URL  string
	// SHA256 is the published digest, or the prefix of it that torch.hub
	// checks (the hex digits in the file name).
	SHA256 string
}

// Normalization is what a pretrained model expects of its input: an RGB
// image with values in [0, 1] becomes (x*Scale - Mean) / Std per channel,
// the channels reversed first when BGR.
type Normalization struct {
	Mean, Std [3]float64
	Scale     float64
	BGR       bool
}

// ImageNetNormalization is torchvision's.
var ImageNetNormalization = Normalization{Mean: [3]float64{0.485, 0.456, 0.406}, Std: [3]float64{0.229, 0.224, 0.225}, Scale: 1}

// googleNormalization, (x - 0.5) / 0.5, is what the weights torchvision
// took from Google (googlenet, inception_v3) were trained on.
var googleNormalization = Normalization{Mean: [3]float64{0.5, 0.5, 0.5}, Std: [3]float64{0.5, 0.5, 0.5}, Scale: 1}

type zooArch struct {
	name string
	// features adds the network up to its last feature map; tap is called
	// with every layer that layers_to_extract may name, in order, and stops
	// the network early when it returns true.
	features   func(l layers, x *G.Node, tap func(layer string, x *G.Node) (done bool)) *G.Node
	layers     []string // what tap reports
	checkpoint Checkpoint
	norm       Normalization
	// transformInput: the architecture has torchvision's transform_input,
	// which maps ImageNet-normalised input to norm inside the network.
	transformInput bool
	head           []string // checkpoint key prefixes of the classifier head(s), not loaded
	minSize        int      // the smallest input height and width
}

var zoo = map[string]*zooArch{}

func registerZoo(a *zooArch) {
	zoo[a.name] = a
	Trunks.Register(a.name, func(p *config.Params) Trunk { return newZoo(a, p) })
}

// ZooInfo returns the published checkpoint of a zoo architecture; ok is
// false for other trunk names.
func ZooInfo(name string) (c Checkpoint, ok bool) {
	a, ok := zoo[name]
	if !ok {
		return Checkpoint{}, false
	}
	return a.checkpoint, true
}

// ZooNames lists the zoo's architectures, sorted.
func ZooNames() []string {
	names := make([]string, 0, len(zoo))
	for n := range zoo {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Zoo is a configured zoo trunk.
type Zoo struct {
	arch *zooArch
	// Pretrained is "" (the seeded initialisation), "imagenet" (the
	// published checkpoint under the torch home) or a .pth/.pt/safetensors
	// file; true and false, as torchvision's argument, are "imagenet" and "".
	Pretrained string
	// Layers are layers_to_extract: when set, the output is the
	// concatenation of these layers' globally pooled outputs, in order.
	Layers []string
	// Normalize appends the input normalisation the pretrained weights
	// expect to the transforms (Preprocessing), as powerful_benchmarker
	// does; false leaves the transforms as configured.
	Normalize bool
	// TransformInput is torchvision's transform_input (googlenet,
	// inception_v3; on by default, as torchvision builds their pretrained
	// models): the network takes ImageNet-normalised input and maps it to
	// what the weights were trained on.
	TransformInput bool
	// partSizes are the sizes of the pooled Layers, set by build (the
	// same for every graph: a layer's channels do not depend on the batch
	// or the image size).
	partSizes []int
	origin
}

func newZoo(a *zooArch, p *config.Params) *Zoo {
	z := &Zoo{
		arch:       a,
		Pretrained: p.StringOrBool("pretrained", "", "imagenet"),
		Layers:     p.Strings("layers_to_extract", nil, a.layers...),
		Normalize:  p.Bool("normalize", true),
		origin:     originOf(p),
	}
	if a.transformInput {
		z.TransformInput = p.Bool("transform_input", true)
	}
	return z
}

func (z *Zoo) inputShape(example []int) ([]int, error) {
	if len(example) != 3 || example[0] != 3 {
		return nil, z.errorf("", "takes RGB images (3 x height x width), got examples of shape %v", example)
	}
	if example[1] < z.arch.minSize || example[2] < z.arch.minSize {
		return nil, z.errorf("", "takes images of at least %dx%d, got %dx%d", z.arch.minSize, z.arch.minSize, example[1], example[2])
	}
	return example, nil
}

func (z *Zoo) build(l layers, x *G.Node) *G.Node {
	taps := map[string]*G.Node{}
	tap := func(layer string, x *G.Node) bool {
		if slices.Contains(z.Layers, layer) {
			taps[layer] = x
		}
		return len(z.Layers) > 0 && len(taps) == len(z.Layers)
	}
	if z.TransformInput {
		// torchvision: x_c * (std_c / 0.5) + (mean_c - 0.5) / 0.5 for
		// ImageNet's mean and std, generalised to the weights' norm.
		from, to := ImageNetNormalization, z.arch.norm
		var scale, shift [3]float64
		for c := range scale {
			scale[c] = from.Std[c] / to.Std[c]
			shift[c] = (from.Mean[c] - to.Mean[c]) / to.Std[c]
		}
		x = l.channelAffine("transform_input", x, scale, shift)
	}
	x = z.arch.features(l, x, tap)
	if len(z.Layers) == 0 {
		return l.meanPool("avgpool", x)
	}
	outs := make([]*G.Node, len(z.Layers))
	z.partSizes = make([]int, len(z.Layers))
	for i, name := range z.Layers {
		outs[i] = l.meanPool(name+"/pooled", taps[name])
		z.partSizes[i] = outs[i].Shape()[1]
	}
	if len(outs) == 1 {
		return outs[0]
	}
	return l.concat("layers_to_extract", outs...)
}

func (z *Zoo) parts() []int {
	if len(z.partSizes) < 2 {
		return nil
	}
	return z.partSizes
}

// Preprocessing returns the transforms that turn ToTensor's RGB values in
// [0, 1] into what the network was trained on, to apply after the
// configured ones; none when normalize is false.
func (z *Zoo) Preprocessing() []config.Component {
	if !z.Normalize {
		return nil
	}
	n := z.arch.norm
	if z.TransformInput {
		n = ImageNetNormalization
	}
	var out []config.Component
	if n.BGR {
		out = append(out, config.C("ConvertToBGR", nil))
	}
	if n.Scale != 1 {
		out = append(out, config.C("Multiplier", map[string]any{"multiple": n.Scale}))
	}
	list := func(v [3]float64) []any { return []any{v[0], v[1], v[2]} }
	return append(out, config.C("Normalize", map[string]any{"mean": list(n.Mean), "std": list(n.Std)}))
}

// pretrained resolves "imagenet" to the checkpoint's path under the torch
// home, as torch.hub.load_state_dict_from_url would find it.
func (z *Zoo) pretrained() string {
	if z.Pretrained != "imagenet" {
		return z.Pretrained
	}
	return CheckpointPath(z.arch.checkpoint)
}

// missingPretrained explains where to get a missing imagenet checkpoint.
func (z *Zoo) missingPretrained(path string) error {
	c := z.arch.checkpoint
	return z.errorf("pretrained", "imagenet weights not found: put %s (published at %s) at %s, or run `bench models download %s` (the folder is --pytorch_home, else $TORCH_HOME, else ~/.cache/torch, then hub/checkpoints)",
		c.File, c.URL, path, z.arch.name)
}

// ignored reports whether a checkpoint tensor is deliberately not loaded:
// the classifier head and BatchNorm's batch counter.
func (z *Zoo) ignored(key string) bool {
	if strings.HasSuffix(key, "num_batches_tracked") {
		return true
	}
	for _, h := range z.arch.head {
		if strings.HasPrefix(key, h) {
			return true
		}
	}
	return false
}

// TorchHome is torch.hub's home folder: $TORCH_HOME, else
// $XDG_CACHE_HOME/torch, else ~/.cache/torch.
func TorchHome() string {
	if h := os.Getenv("TORCH_HOME"); h != "" {
		return h
	}
	if c := os.Getenv("XDG_CACHE_HOME"); c != "" {
		return filepath.Join(c, "torch")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(".cache", "torch")
	}
	return filepath.Join(home, ".cache", "torch")
}

// CheckpointPath is where torch.hub keeps a downloaded checkpoint.
func CheckpointPath(c Checkpoint) string {
	return filepath.Join(TorchHome(), "hub", "checkpoints", c.File)
}

// convBNReLU is the conv-BatchNorm-ReLU unit most of these networks repeat.
func convBNReLU(l layers, conv, bn string, x *G.Node, out, kernel, stride int, bias bool) *G.Node {
	return l.batchNormReLU(bn, l.conv(conv, x, out, kernel, stride, bias))
}

func init() {
	for _, a := range resnets() {
		registerZoo(a)
	}
	registerZoo(bnInception())
	registerZoo(googLeNet())
	registerZoo(inceptionV3())
}

// PretrainedFile is the weights file a trunk loads, or "" for none (what a
// cache of its outputs is keyed by).
func PretrainedFile(t Trunk) string { return t.pretrained() }
