package ad

import (
	"fmt"
	"math"
)

// LogSumExp is log(sum_j exp(a_ij)) of each row (rows x 1), over the entries
// where keep is true (keep nil = all), plus a virtual entry 0 when addOne:
// PML's lmu.logsumexp(a, keep_mask, add_one, dim=1). A row with nothing kept
// gives 0 and no gradient, as PML's masked_fill.
func (t *Tape) LogSumExp(a *Node, keep []bool, addOne bool) *Node {
	checkMask(a, keep)
	c := a.Cols
	out := t.node(a.Rows, 1, a)
	for i := 0; i < a.Rows; i++ {
		out.Value[i] = rowLogSumExp(a.Value[i*c:(i+1)*c], maskRow(keep, i, c), addOne)
	}
	t.record(out, func() {
		for i := 0; i < a.Rows; i++ {
			g, lse := out.Grad[i], out.Value[i]
			row, k := a.Value[i*c:(i+1)*c], maskRow(keep, i, c)
			if g == 0 || !anyKept(k, c) {
				continue
			}
			for j, x := range row {
				if k == nil || k[j] {
					a.Grad[i*c+j] += g * math.Exp(x-lse)
				}
			}
		}
	})
	return out
}

// Softmax is the softmax of each row over the entries where keep is true
// (keep nil = all); other entries are 0, as if they were -inf.
func (t *Tape) Softmax(a *Node, keep []bool) *Node {
	checkMask(a, keep)
	c := a.Cols
	out := t.node(a.Rows, c, a)
	for i := 0; i < a.Rows; i++ {
		k := maskRow(keep, i, c)
		lse := rowLogSumExp(a.Value[i*c:(i+1)*c], k, false)
		for j, x := range a.Value[i*c : (i+1)*c] {
			if k == nil || k[j] {
				out.Value[i*c+j] = math.Exp(x - lse)
			}
		}
	}
	t.record(out, func() {
		for i := 0; i < a.Rows; i++ {
			y, g := out.Value[i*c:(i+1)*c], out.Grad[i*c:(i+1)*c]
			s := dot(y, g)
			for j, yj := range y {
				a.Grad[i*c+j] += yj * (g[j] - s)
			}
		}
	})
	return out
}

func checkMask(a *Node, keep []bool) {
	if keep != nil && len(keep) != a.Len() {
		panic(fmt.Sprintf("ad: mask of %d for a %dx%d matrix", len(keep), a.Rows, a.Cols))
	}
}

func maskRow(keep []bool, i, c int) []bool {
	if keep == nil {
		return nil
	}
	return keep[i*c : (i+1)*c]
}

func anyKept(keep []bool, c int) bool {
	if keep == nil {
		return c > 0
	}
	for _, k := range keep {
		if k {
			return true
		}
	}
	return false
}

// rowLogSumExp is log(sum exp(x_j)) over the kept x_j (and 0 when addOne),
// 0 when nothing is kept.
func rowLogSumExp(x []float64, keep []bool, addOne bool) float64 {
	if !anyKept(keep, len(x)) {
		return 0
	}
	m := math.Inf(-1)
	if addOne {
		m = 0
	}
	for j, v := range x {
		if (keep == nil || keep[j]) && v > m {
			m = v
		}
	}
	if math.IsInf(m, 0) {
		return m
	}
	s := 0.0
	if addOne {
		s = math.Exp(-m)
	}
	for j, v := range x {
		if keep == nil || keep[j] {
			s += math.Exp(v - m)
		}
	}
	return m + math.Log(s)
}

// GroupLogSumExp is log(sum_{i in groups[k]} exp(a_i)) for each group of
// flat indices into a (len(groups) x 1); an index may repeat and then counts
// as often. An empty group gives 0 and no gradient, as PML's masked
// logsumexp.
func (t *Tape) GroupLogSumExp(a *Node, groups [][]int) *Node {
	out := t.node(len(groups), 1, a)
	for k, g := range groups {
		if len(g) == 0 {
			continue
		}
		m := math.Inf(-1)
		for _, i := range g {
			m = math.Max(m, a.Value[i])
		}
		if math.IsInf(m, 0) {
			out.Value[k] = m
			continue
		}
		s := 0.0
		for _, i := range g {
			s += math.Exp(a.Value[i] - m)
		}
		out.Value[k] = m + math.Log(s)
	}
	t.record(out, func() {
		for k, g := range groups {
			grad, lse := out.Grad[k], out.Value[k]
			if grad == 0 {
				continue
			}
			for _, i := range g {
				a.Grad[i] += grad * math.Exp(a.Value[i]-lse)
			}
		}
	})
	return out
}
