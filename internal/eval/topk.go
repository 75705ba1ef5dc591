package eval

import (
	"cmp"
	"math"
	"slices"
)

// A selector keeps the k best (lowest score, then lowest index) candidate
// neighbours of one query. The search offers it only candidates below its
// threshold, a score that at least k kept candidates beat or tie, and it
// buffers them: when the buffer is full, a selection keeps the best (k or
// a few more) and tightens the threshold. Each reference then costs one
// comparison in the scan, and the selection O(k) amortised over the k or
// more pushes that filled the buffer, which beats a heap's O(log k) per
// push while the threshold is still loose.
//
// References arrive in increasing index order, so a later candidate whose
// score equals the threshold loses the tie: the scan's strict comparison
// rejects it, as the order (score, index) requires.
type selector[T Float] interface {
	reset()
	threshold() T
	// push adds a candidate scoring below the threshold and returns the
	// threshold, which may have tightened.
	push(s T, i int32) T
	// best writes the k best candidates in order to idx and score and
	// returns their number, which is less than k only if fewer were pushed.
	best(idx []int32, score []T) int
}

// bufferSize leaves room for the kept candidates and at least as many new
// ones, and never more than the nr references can fill.
func bufferSize(k, nr int) int { return min(2*k+refBlock, nr+1) }

func newSelector[T Float](k, nr int) selector[T] {
	if _, ok := any(T(0)).(float32); ok {
		return any(&keyTopK{keys: make([]uint64, 0, bufferSize(k, nr)), k: k}).(selector[T])
	}
	return &candTopK[T]{buf: make([]cand[T], 0, bufferSize(k, nr)), k: k}
}

// keyTopK packs a float32 score and its index into one uint64 whose
// unsigned order is the (score, index) order, so that selection and
// sorting compare single integers: several times faster than comparing
// pairs, and float32 is the path that evaluates large sets.
type keyTopK struct {
	keys []uint64
	k    int
	thr  float32
}

func scoreKey(s float32, i int32) uint64 {
	b := math.Float32bits(s + 0) // +0 turns -0 into +0, which compares equal
	if b&(1<<31) != 0 {
		b = ^b
	} else {
		b |= 1 << 31
	}
	return uint64(b)<<32 | uint64(uint32(i))
}

func keyScore(key uint64) float32 {
	b := uint32(key >> 32)
	if b&(1<<31) != 0 {
		b &^= 1 << 31
	} else {
		b = ^b
	}
	return math.Float32frombits(b)
}

func (h *keyTopK) reset() {
	h.keys = h.keys[:0]
	h.thr = float32(math.Inf(1))
}

func (h *keyTopK) threshold() float32 { return h.thr }

func (h *keyTopK) push(s float32, i int32) float32 {
	h.keys = append(h.keys, scoreKey(s, i))
	if len(h.keys) == cap(h.keys) {
		h.shrink()
	}
	return h.thr
}

// shrink makes room in a full buffer. Rather than select the k best
// exactly (quickselect: several branchy passes), it keeps every key up to
// a pivot that a sorted sample puts near rank 5k/4, in two branch-free
// passes; the pivot's score is a valid threshold because at least k keys
// do not exceed it. An unlucky sample, keeping fewer than k or freeing
// too little room, falls back to the exact selection.
func (h *keyTopK) shrink() {
	keys := h.keys
	n := len(keys)
	var sample [64]uint64
	for i := range sample {
		sample[i] = keys[i*n/len(sample)]
	}
	slices.Sort(sample[:])
	p := sample[min(len(sample)-1, len(sample)*5*h.k/(4*n)+1)]
	m := 0
	for _, x := range keys {
		if x <= p {
			m++
		}
	}
	if m < h.k || m > n-n/4 {
		selectKeys(keys, h.k)
		h.keys = keys[:h.k]
		h.thr = keyScore(keys[h.k-1])
		return
	}
	j := 0
	for _, x := range keys {
		keys[j] = x
		if x <= p {
			j++
		}
	}
	h.keys = keys[:m]
	h.thr = keyScore(p)
}

func (h *keyTopK) best(idx []int32, score []float32) int {
	if len(h.keys) > h.k {
		selectKeys(h.keys, h.k)
		h.keys = h.keys[:h.k]
	}
	slices.Sort(h.keys)
	for j, key := range h.keys {
		idx[j] = int32(uint32(key))
		score[j] = keyScore(key)
	}
	return len(h.keys)
}

// selectKeys reorders x so that x[:k] holds its k smallest values, the
// k-th smallest at x[k-1] (Hoare's quickselect with median-of-three
// pivots; the keys are distinct, since their indices are).
func selectKeys(x []uint64, k int) {
	lo, hi := 0, len(x)-1
	for hi > lo {
		mid := lo + (hi-lo)/2
		if x[mid] < x[lo] {
			x[mid], x[lo] = x[lo], x[mid]
		}
		if x[hi] < x[lo] {
			x[hi], x[lo] = x[lo], x[hi]
		}
		if x[hi] < x[mid] {
			x[hi], x[mid] = x[mid], x[hi]
		}
		p := x[mid]
		i, j := lo, hi
		for i <= j {
			for x[i] < p {
				i++
			}
			for p < x[j] {
				j--
			}
			if i <= j {
				x[i], x[j] = x[j], x[i]
				i++
				j--
			}
		}
		switch {
		case k-1 <= j:
			hi = j
		case k-1 >= i:
			lo = i
		default:
			return
		}
	}
}

// cand is a candidate neighbour for candTopK.
type cand[T Float] struct {
	s T
	i int32
}

func candCmp[T Float](a, b cand[T]) int {
	if c := cmp.Compare(a.s, b.s); c != 0 {
		return c
	}
	return cmp.Compare(a.i, b.i)
}

// candTopK is the selector for float64, which a key cannot hold together
// with an index. It sorts to select: float64 serves exactness, not speed.
type candTopK[T Float] struct {
	buf []cand[T]
	k   int
	thr T
}

func (h *candTopK[T]) reset() {
	h.buf = h.buf[:0]
	h.thr = T(math.Inf(1))
}

func (h *candTopK[T]) threshold() T { return h.thr }

func (h *candTopK[T]) push(s T, i int32) T {
	h.buf = append(h.buf, cand[T]{s, i})
	if len(h.buf) == cap(h.buf) {
		slices.SortFunc(h.buf, candCmp[T])
		h.buf = h.buf[:h.k]
		h.thr = h.buf[h.k-1].s
	}
	return h.thr
}

func (h *candTopK[T]) best(idx []int32, score []T) int {
	slices.SortFunc(h.buf, candCmp[T])
	h.buf = h.buf[:min(h.k, len(h.buf))]
	for j, c := range h.buf {
		idx[j] = c.i
		score[j] = c.s
	}
	return len(h.buf)
}
