package eval

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// SearchOptions configures Search.
type SearchOptions struct {
	// K is the number of neighbours returned per query. It is capped at the
	// number of candidate references.
	K int
	// ExcludeSelf drops reference row i from the neighbours of query i: the
	// query set compared with itself, or a reference set whose first rows
	// are the queries.
	ExcludeSelf bool
}

// Tile sizes of the blocked search. A query tile is the unit of work of one
// goroutine; a reference block of 512 x 128 float32 (256 KiB) stays in L2
// while the tile is scored against it, and the tile x block product buffer
// is the only N-independent scratch besides the top-k buffers.
const (
	queryTile = 96
	refBlock  = 512
)

// Search finds the K nearest references (squared Euclidean distance) of
// every query, exactly. query is nq x dim and ref nr x dim, row-major.
//
// visit is called once per query, concurrently from several goroutines, with
// the neighbours' reference indices and squared distances sorted by
// increasing distance, equal distances by smaller index. The slices are
// reused once visit returns.
//
// Distances are |q|^2 + |r|^2 - 2 q·r: the inner products come from a
// blocked matrix product, so memory stays O(nq*K + nr*dim) rather than
// O(nq*nr). With T = float32 the products are accumulated in float32, so
// neighbours whose distances differ by less than about 1e-7 relative may
// come in either order; use float64 to reproduce a float64 reference.
func Search[T Float](query, ref []T, dim int, opt SearchOptions, visit func(q int, idx []int32, dist []T)) error {
	if dim <= 0 {
		return fmt.Errorf("eval: dimension %d, want > 0", dim)
	}
	if len(query)%dim != 0 || len(ref)%dim != 0 {
		return fmt.Errorf("eval: %d query and %d reference values are not multiples of dimension %d", len(query), len(ref), dim)
	}
	nq, nr := len(query)/dim, len(ref)/dim
	if nr > math.MaxInt32 {
		return fmt.Errorf("eval: %d references, at most %d supported", nr, math.MaxInt32)
	}
	if opt.ExcludeSelf && nr < nq {
		return fmt.Errorf("eval: self-exclusion needs the %d queries among the %d references", nq, nr)
	}
	avail := nr
	if opt.ExcludeSelf {
		avail--
	}
	k := min(opt.K, avail)
	if k <= 0 || nq == 0 {
		for q := range nq {
			visit(q, nil, nil)
		}
		return nil
	}
	s := &searcher[T]{
		kern:        newKernel(query, ref, dim),
		dim:         dim,
		nq:          nq,
		nr:          nr,
		k:           k,
		excludeSelf: opt.ExcludeSelf,
		qnorm:       sqNorms(query, dim),
		rnorm:       sqNorms(ref, dim),
		visit:       visit,
	}
	s.run()
	return nil
}

type searcher[T Float] struct {
	kern         kernel[T]
	dim, nq, nr  int
	k            int
	excludeSelf  bool
	qnorm, rnorm []T
	visit        func(q int, idx []int32, dist []T)
	next         atomic.Int64
}

// sqNorms returns |x_i|^2 accumulated in float64: the norms enter every
// distance, so their rounding error should be no larger than T's.
func sqNorms[T Float](x []T, dim int) []T {
	n := len(x) / dim
	out := make([]T, n)
	for i := range n {
		var s float64
		for _, v := range x[i*dim : (i+1)*dim] {
			s += float64(v) * float64(v)
		}
		out[i] = T(s)
	}
	return out
}

func (s *searcher[T]) run() {
	tiles := (s.nq + queryTile - 1) / queryTile
	workers := min(runtime.GOMAXPROCS(0), tiles)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(s.work)
	}
	wg.Wait()
}

// work takes query tiles until none are left. All scratch is allocated
// here, once per goroutine.
func (s *searcher[T]) work() {
	ra, ca := s.kern.rowAlign(), s.kern.colAlign()
	rows := (queryTile + ra - 1) / ra * ra
	ldo := (refBlock + ca - 1) / ca * ca
	qbuf := make([]T, rows*s.dim)
	out := make([]T, rows*ldo)
	heads := make([]selector[T], queryTile)
	for i := range heads {
		heads[i] = newSelector[T](s.k, s.nr)
	}
	idx := make([]int32, s.k)
	dist := make([]T, s.k)
	for {
		q0 := int(s.next.Add(queryTile)) - queryTile
		if q0 >= s.nq {
			return
		}
		q1 := min(q0+queryTile, s.nq)
		qp := s.kern.packQueries(qbuf, q0, q1)
		for i := range q1 - q0 {
			heads[i].reset()
		}
		for r0 := 0; r0 < s.nr; r0 += refBlock {
			r1 := min(r0+refBlock, s.nr)
			s.kern.dots(out, ldo, qp, q1-q0, r0, r1)
			s.scan(heads[:q1-q0], out, ldo, q0, r0, r1)
		}
		for i := range q1 - q0 {
			q := q0 + i
			n := heads[i].best(idx, dist)
			for j := range n {
				dist[j] = max(0, s.qnorm[q]+dist[j])
			}
			s.visit(q, idx[:n], dist[:n])
		}
	}
}

// scan offers every reference of the block to each query's selector. The
// score |r|^2 - 2 q·r ranks like the distance; |q|^2 is added at the end.
func (s *searcher[T]) scan(heads []selector[T], out []T, ldo, q0, r0, r1 int) {
	rn := s.rnorm[r0:r1]
	for i, h := range heads {
		row := out[i*ldo:]
		row = row[:len(rn)]
		if q := q0 + i; s.excludeSelf && q >= r0 && q < r1 {
			row[q-r0] = T(math.Inf(-1)) // scores +Inf: never a candidate
		}
		thr := h.threshold()
		for j, r := range rn {
			if sc := r - 2*row[j]; sc < thr {
				thr = h.push(sc, int32(r0+j))
			}
		}
	}
}
