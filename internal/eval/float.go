package eval

// Float is the element type of embeddings: float32 for speed and memory,
// float64 where results must reproduce a float64 reference exactly.
type Float interface {
	~float32 | ~float64
}

// Convert returns x in another precision; nil stays nil, which callers
// use for "no such output".
func Convert[To, From Float](x []From) []To {
	if x == nil {
		return nil
	}
	out := make([]To, len(x))
	for i, v := range x {
		out[i] = To(v)
	}
	return out
}
