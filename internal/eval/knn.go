package eval

import (
	"fmt"
	"math"
	"math/bits"
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
// while the tile is scored against it, and the tile x block score buffer
// is, with the selectors' buffers, all the scratch a goroutine needs.
// refBlock is a multiple of every kernel's mask and panel width.
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
// blocked matrix product, tile by tile, and each query keeps only its best
// candidates, so besides a packed copy of the references the memory is
// O(cores * K), never O(nq * nr). With T = float32 the products are
// accumulated in float32, so neighbours whose distances differ by less
// than about 1e-7 relative may come in either order; use float64 to
// reproduce a float64 reference.
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
		visit:       visit,
	}
	s.run()
	return nil
}

type searcher[T Float] struct {
	kern        kernel[T]
	dim, nq, nr int
	k           int
	excludeSelf bool
	qnorm       []T
	visit       func(q int, idx []int32, dist []T)
	next        atomic.Int64
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
	ra := s.kern.rowAlign()
	rows := (queryTile + ra - 1) / ra * ra
	const ldm = refBlock / maskBits
	qbuf := make([]T, rows*s.dim)
	out := make([]T, rows*refBlock)
	mask := make([]uint16, rows*ldm)
	thr := make([]T, rows)
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
		nq := q1 - q0
		qp := s.kern.packQueries(qbuf, q0, q1)
		for i := range nq {
			heads[i].reset()
		}
		for i := nq; i < rows; i++ {
			thr[i] = T(math.Inf(-1)) // padding rows: no candidates
		}
		for r0 := 0; r0 < s.nr; r0 += refBlock {
			r1 := min(r0+refBlock, s.nr)
			for i := range nq {
				thr[i] = heads[i].threshold()
			}
			s.kern.scores(out, refBlock, mask, ldm, qp, thr, nq, r0, r1)
			s.collect(heads[:nq], out, mask, ldm, q0, r0, r1)
		}
		for i := range nq {
			q := q0 + i
			n := heads[i].best(idx, dist)
			for j := range n {
				dist[j] = max(0, s.qnorm[q]+dist[j])
			}
			s.visit(q, idx[:n], dist[:n])
		}
	}
}

// collect pushes the block's masked scores into each query's selector.
// The mask was computed against the threshold at the start of the block;
// the threshold may have tightened since, so each score is checked again.
func (s *searcher[T]) collect(heads []selector[T], out []T, mask []uint16, ldm, q0, r0, r1 int) {
	words := (r1 - r0 + maskBits - 1) / maskBits
	for i, h := range heads {
		self := -1
		if s.excludeSelf {
			self = q0 + i - r0
		}
		thr := h.threshold()
		row := out[i*refBlock : (i+1)*refBlock]
		for w, m := range mask[i*ldm : i*ldm+words] {
			for m != 0 {
				j := w*maskBits + bits.TrailingZeros16(m)
				m &= m - 1
				if sc := row[j]; sc < thr && j != self {
					thr = h.push(sc, int32(r0+j))
				}
			}
		}
	}
}
