package optim

// Float is the element type an optimiser can update: float32 for the model
// (training speed), float64 for a loss's learnable weights (they are checked
// against PML in float64).
type Float interface{ ~float32 | ~float64 }

// Param is one learnable tensor seen by an optimiser. Value and Grad alias
// the owner's storage (a Gorgonia tensor's backing array, a loss's weight),
// so a step updates the model in place without copying.
type Param[T Float] struct {
	Name  string
	Shape []int
	Value []T
	Grad  []T
}
