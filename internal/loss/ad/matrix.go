package ad

import (
	"fmt"
	"math"
)

// Sum is the sum of all elements (1 x 1).
func (t *Tape) Sum(a *Node) *Node {
	out := t.node(1, 1, a)
	for _, x := range a.Value {
		out.Value[0] += x
	}
	t.record(out, func() {
		g := out.Grad[0]
		for i := range a.Grad {
			a.Grad[i] += g
		}
	})
	return out
}

// Mean is the mean of all elements (1 x 1).
func (t *Tape) Mean(a *Node) *Node { return t.Scale(t.Sum(a), 1/float64(a.Len())) }

// RowSums sums each row (rows x 1).
func (t *Tape) RowSums(a *Node) *Node {
	out := t.node(a.Rows, 1, a)
	for i := 0; i < a.Rows; i++ {
		s := 0.0
		for _, x := range a.Value[i*a.Cols : (i+1)*a.Cols] {
			s += x
		}
		out.Value[i] = s
	}
	t.record(out, func() {
		for i := 0; i < a.Rows; i++ {
			g := out.Grad[i]
			row := a.Grad[i*a.Cols : (i+1)*a.Cols]
			for j := range row {
				row[j] += g
			}
		}
	})
	return out
}

// ColSums sums each column (1 x cols).
func (t *Tape) ColSums(a *Node) *Node {
	out := t.node(1, a.Cols, a)
	for i := 0; i < a.Rows; i++ {
		for j, x := range a.Value[i*a.Cols : (i+1)*a.Cols] {
			out.Value[j] += x
		}
	}
	t.record(out, func() {
		for i := 0; i < a.Rows; i++ {
			row := a.Grad[i*a.Cols : (i+1)*a.Cols]
			for j, g := range out.Grad {
				row[j] += g
			}
		}
	})
	return out
}

// Gather picks elements of a by flat (row-major) index, as a 1 x len(idx)
// row; an index may repeat.
func (t *Tape) Gather(a *Node, idx []int) *Node {
	out := t.node(1, len(idx), a)
	for k, i := range idx {
		out.Value[k] = a.Value[i]
	}
	t.record(out, func() {
		for k, i := range idx {
			a.Grad[i] += out.Grad[k]
		}
	})
	return out
}

// Rows picks rows of a by index (len(idx) x cols); an index may repeat.
func (t *Tape) Rows(a *Node, idx []int) *Node {
	c := a.Cols
	out := t.node(len(idx), c, a)
	for k, i := range idx {
		copy(out.Value[k*c:(k+1)*c], a.Value[i*c:(i+1)*c])
	}
	t.record(out, func() {
		for k, i := range idx {
			dst, src := a.Grad[i*c:(i+1)*c], out.Grad[k*c:(k+1)*c]
			for j, g := range src {
				dst[j] += g
			}
		}
	})
	return out
}

// MatMul is the matrix product a b.
func (t *Tape) MatMul(a, b *Node) *Node {
	if a.Cols != b.Rows {
		panic(fmt.Sprintf("ad: MatMul of %dx%d and %dx%d", a.Rows, a.Cols, b.Rows, b.Cols))
	}
	n, k, m := a.Rows, a.Cols, b.Cols
	out := t.node(n, m, a, b)
	for i := 0; i < n; i++ {
		o := out.Value[i*m : (i+1)*m]
		for l, x := range a.Value[i*k : (i+1)*k] {
			axpy(x, b.Value[l*m:(l+1)*m], o)
		}
	}
	t.record(out, func() {
		for i := 0; i < n; i++ {
			g := out.Grad[i*m : (i+1)*m]
			for l := 0; l < k; l++ {
				if a.Grad != nil {
					a.Grad[i*k+l] += dot(g, b.Value[l*m:(l+1)*m])
				}
				if b.Grad != nil {
					axpy(a.Value[i*k+l], g, b.Grad[l*m:(l+1)*m])
				}
			}
		}
	})
	return out
}

// MatMulT is a bᵀ: the dot products of the rows of a with the rows of b.
func (t *Tape) MatMulT(a, b *Node) *Node {
	if a.Cols != b.Cols {
		panic(fmt.Sprintf("ad: MatMulT of %dx%d and %dx%d", a.Rows, a.Cols, b.Rows, b.Cols))
	}
	n, m, d := a.Rows, b.Rows, a.Cols
	out := t.node(n, m, a, b)
	for i := 0; i < n; i++ {
		ai := a.Value[i*d : (i+1)*d]
		for j := 0; j < m; j++ {
			out.Value[i*m+j] = dot(ai, b.Value[j*d:(j+1)*d])
		}
	}
	t.record(out, func() {
		for i := 0; i < n; i++ {
			for j := 0; j < m; j++ {
				g := out.Grad[i*m+j]
				if g == 0 {
					continue
				}
				if a.Grad != nil {
					axpy(g, b.Value[j*d:(j+1)*d], a.Grad[i*d:(i+1)*d])
				}
				if b.Grad != nil {
					axpy(g, a.Value[i*d:(i+1)*d], b.Grad[j*d:(j+1)*d])
				}
			}
		}
	})
	return out
}

// normEps is torch.nn.functional.normalize's default eps.
const normEps = 1e-12

// NormalizeRows divides each row by its p-norm (at least 1e-12), as
// torch.nn.functional.normalize(a, p, dim=1).
func (t *Tape) NormalizeRows(a *Node, p float64) *Node {
	c := a.Cols
	out := t.node(a.Rows, c, a)
	norms := make([]float64, a.Rows)
	for i := 0; i < a.Rows; i++ {
		x := a.Value[i*c : (i+1)*c]
		norms[i] = pNorm(x, p)
		scale := 1 / math.Max(norms[i], normEps)
		for j, v := range x {
			out.Value[i*c+j] = v * scale
		}
	}
	t.record(out, func() {
		for i := 0; i < a.Rows; i++ {
			x, g, dx := a.Value[i*c:(i+1)*c], out.Grad[i*c:(i+1)*c], a.Grad[i*c:(i+1)*c]
			norm := norms[i]
			den := math.Max(norm, normEps)
			for j := range dx {
				dx[j] += g[j] / den
			}
			if norm < normEps {
				continue // clamped: the norm is a constant
			}
			// d/dx of the norm, weighted by -(g·x)/norm².
			w := -dot(g, x) / (den * den)
			for j, v := range x {
				dx[j] += w * dNorm(v, norm, p)
			}
		}
	})
	return out
}

// RowNorms is the p-norm of each row (rows x 1), as torch.norm(a, p, dim=1);
// a zero row passes no gradient, as torch's.
func (t *Tape) RowNorms(a *Node, p float64) *Node {
	c := a.Cols
	out := t.node(a.Rows, 1, a)
	for i := 0; i < a.Rows; i++ {
		out.Value[i] = pNorm(a.Value[i*c:(i+1)*c], p)
	}
	t.record(out, func() {
		for i := 0; i < a.Rows; i++ {
			norm, g := out.Value[i], out.Grad[i]
			if norm == 0 || g == 0 {
				continue
			}
			for j, v := range a.Value[i*c : (i+1)*c] {
				a.Grad[i*c+j] += g * dNorm(v, norm, p)
			}
		}
	})
	return out
}

// GroupMax is the maximum of each run of size consecutive columns of a row
// (rows x cols/size), as a.view(rows, -1, size).max(dim=2); the gradient
// goes to the first maximum of the run, as torch's.
func (t *Tape) GroupMax(a *Node, size int) *Node {
	if size <= 0 || a.Cols%size != 0 {
		panic(fmt.Sprintf("ad: GroupMax of %d columns in runs of %d", a.Cols, size))
	}
	out := t.node(a.Rows, a.Cols/size, a)
	arg := make([]int, out.Len())
	for k := range arg {
		run := a.Value[k*size : (k+1)*size]
		best := 0
		for j, v := range run {
			// NaN wins, so that it propagates as torch's max does.
			if v > run[best] || math.IsNaN(v) && !math.IsNaN(run[best]) {
				best = j
			}
		}
		arg[k] = k*size + best
		out.Value[k] = run[best]
	}
	t.record(out, func() {
		for k, i := range arg {
			a.Grad[i] += out.Grad[k]
		}
	})
	return out
}

func pNorm(x []float64, p float64) float64 {
	if p == 2 {
		return math.Sqrt(dot(x, x))
	}
	s := 0.0
	for _, v := range x {
		s += math.Pow(math.Abs(v), p)
	}
	return math.Pow(s, 1/p)
}

// dNorm is d||x||_p / dx_j at x_j = v.
func dNorm(v, norm, p float64) float64 {
	if p == 2 {
		return v / norm
	}
	return sign(v) * math.Pow(math.Abs(v)/norm, p-1)
}

func sign(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// PairwiseLp is the n x m matrix of p-norm distances between the rows of x
// and of y, as torch.cdist. Where a distance is 0 its gradient is 0 (torch's
// subgradient).
func (t *Tape) PairwiseLp(x, y *Node, p float64) *Node {
	if x.Cols != y.Cols {
		panic(fmt.Sprintf("ad: PairwiseLp of %dx%d and %dx%d", x.Rows, x.Cols, y.Rows, y.Cols))
	}
	n, m, d := x.Rows, y.Rows, x.Cols
	out := t.node(n, m, x, y)
	for i := 0; i < n; i++ {
		xi := x.Value[i*d : (i+1)*d]
		for j := 0; j < m; j++ {
			if x == y && j < i {
				out.Value[i*m+j] = out.Value[j*m+i] // symmetric
				continue
			}
			out.Value[i*m+j] = lpDist(xi, y.Value[j*d:(j+1)*d], p)
		}
	}
	t.record(out, func() {
		if p == 2 {
			euclideanBackward(out, x, y)
			return
		}
		diffGrad := make([]float64, d)
		for i := 0; i < n; i++ {
			xi := x.Value[i*d : (i+1)*d]
			for j := 0; j < m; j++ {
				g, dist := out.Grad[i*m+j], out.Value[i*m+j]
				if g == 0 || dist == 0 {
					continue
				}
				yj := y.Value[j*d : (j+1)*d]
				for k, v := range xi {
					diffGrad[k] = g * dNorm(v-yj[k], dist, p)
				}
				if x.Grad != nil {
					axpy(1, diffGrad, x.Grad[i*d:(i+1)*d])
				}
				if y.Grad != nil {
					axpy(-1, diffGrad, y.Grad[j*d:(j+1)*d])
				}
			}
		}
	})
	return out
}

func lpDist(a, b []float64, p float64) float64 {
	if p == 2 {
		return math.Sqrt(sqDist(a, b))
	}
	s := 0.0
	for k, v := range a {
		s += math.Pow(math.Abs(v-b[k]), p)
	}
	return math.Pow(s, 1/p)
}

// euclideanBackward is the p = 2 backward of PairwiseLp in matrix form:
// with r = grad / dist, dx_i = (sum_j r_ij) x_i - sum_j r_ij y_j and
// dy_j = (sum_i r_ij) y_j - sum_i r_ij x_i.
func euclideanBackward(out, x, y *Node) {
	n, m, d := x.Rows, y.Rows, x.Cols
	r := make([]float64, n*m)
	for k, g := range out.Grad {
		if g != 0 && out.Value[k] != 0 {
			r[k] = g / out.Value[k]
		}
	}
	if x.Grad != nil {
		for i := 0; i < n; i++ {
			dx, s := x.Grad[i*d:(i+1)*d], 0.0
			for j, rij := range r[i*m : (i+1)*m] {
				if rij != 0 {
					s += rij
					axpy(-rij, y.Value[j*d:(j+1)*d], dx)
				}
			}
			axpy(s, x.Value[i*d:(i+1)*d], dx)
		}
	}
	if y.Grad != nil {
		for j := 0; j < m; j++ {
			dy, s := y.Grad[j*d:(j+1)*d], 0.0
			for i := 0; i < n; i++ {
				if rij := r[i*m+j]; rij != 0 {
					s += rij
					axpy(-rij, x.Value[i*d:(i+1)*d], dy)
				}
			}
			axpy(s, y.Value[j*d:(j+1)*d], dy)
		}
	}
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

// axpy adds alpha*x to y.
func axpy(alpha float64, x, y []float64) {
	for i, v := range x {
		y[i] += alpha * v
	}
}

func sqDist(a, b []float64) float64 {
	s := 0.0
	for i, v := range a {
		e := v - b[i]
		s += e * e
	}
	return s
}

// Concat joins 1 x k rows into one row.
func (t *Tape) Concat(rows ...*Node) *Node {
	size := 0
	for _, r := range rows {
		if r.Rows != 1 {
			panic(fmt.Sprintf("ad: Concat of a %dx%d matrix, want rows", r.Rows, r.Cols))
		}
		size += r.Cols
	}
	out := t.node(1, size, rows...)
	at := 0
	for _, r := range rows {
		copy(out.Value[at:], r.Value)
		at += r.Cols
	}
	t.record(out, func() {
		at := 0
		for _, r := range rows {
			if r.Grad != nil {
				axpy(1, out.Grad[at:at+r.Cols], r.Grad)
			}
			at += r.Cols
		}
	})
	return out
}
