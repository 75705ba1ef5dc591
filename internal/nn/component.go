package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/bench-ml/bench/internal/config"
)

// Trunk is a configured trunk model (models.trunk).
type Trunk interface {
	// inputShape checks the shape of one example (channels, height, width
	// for images) and returns the shape the trunk takes it in.
	inputShape(example []int) ([]int, error)
	// build adds the trunk on x (batch x inputShape) and returns its output,
	// batch x features.
	build(l layers, x *G.Node) *G.Node
	// pretrained is the safetensors file of initial weights, or "".
	pretrained() string
	errorf(key, format string, args ...any) error
}

// origin is where a component was configured, for error messages.
type origin struct {
	where  string
	source func(key string) string // the file or flag that set a key
}

func originOf(p *config.Params) origin { return origin{where: p.Where(), source: p.Source} }

// errorf reports a problem with the component's parameter key ("" for the
// component itself).
func (o origin) errorf(key, format string, args ...any) error {
	path := config.JoinPath(o.where, key)
	var source string
	if o.source != nil {
		source = o.source(key)
	}
	return &config.Error{Source: source, Path: path, Msg: fmt.Sprintf(format, args...)}
}
