package eval

// Float is the element type of embeddings: float32 for speed and memory,
// float64 where results must reproduce a float64 reference exactly.
type Float interface {
	~float32 | ~float64
}
