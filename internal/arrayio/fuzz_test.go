package arrayio

import (
	"runtime"
	"testing"
)

// allocBound fails the fuzz input when parsing it allocated out of
// proportion to its size.
func allocBound(t *testing.T, n int, parse func()) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	parse()
	runtime.ReadMemStats(&after)
	if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(64*n+1<<20); got > limit {
		t.Fatalf("%d bytes of input allocated %d bytes", n, got)
	}
}

func FuzzReadNPY(f *testing.F) {
	f.Add(npySeed(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }", 8))
	f.Add(npySeed(2, "{'shape': (2,), 'descr': '>i8', 'fortran_order': True}", 16))
	f.Add(npySeed(3, `{"descr": "|u1", "fortran_order": False, "shape": (1, 3)}`, 3))
	f.Add(npySeed(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (300000000, 4), }", 32))
	f.Fuzz(func(t *testing.T, data []byte) {
		allocBound(t, len(data), func() {
			m, err := readNPY(data)
			if err == nil && len(m.data) != m.rows*m.cols {
				t.Fatalf("%d values for %d x %d", len(m.data), m.rows, m.cols)
			}
		})
	})
}

func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{"1,2\n3,4\n", "a,b\n1,2\n", "1\n\"2\n", " 1e300, -0\n", "nan,inf\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		allocBound(t, len(data), func() {
			m, err := readCSV(data)
			if err == nil && len(m.data) != m.rows*m.cols {
				t.Fatalf("%d values for %d x %d", len(m.data), m.rows, m.cols)
			}
		})
	})
}

// npySeed is a .npy file of the given version and header with n data bytes.
func npySeed(version byte, hdr string, n int) []byte {
	b := append([]byte("\x93NUMPY"), version, 0)
	if version == 1 {
		b = append(b, byte(len(hdr)), byte(len(hdr)>>8))
	} else {
		b = append(b, byte(len(hdr)), byte(len(hdr)>>8), 0, 0)
	}
	return append(append(b, hdr...), make([]byte, n)...)
}
