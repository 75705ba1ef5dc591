package arrayio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// ReadArray reads a float32 or float64 .npy array of any number of
// dimensions (images, N x C x H x W) and returns its values in C order with
// its shape.
func ReadArray(path string) (data []float64, shape []int, err error) {
	fail := func(err error) ([]float64, []int, error) { return nil, nil, fmt.Errorf("%s: %w", path, err) }
	b, err := os.ReadFile(path)
	if err != nil {
		return fail(unwrapPath(err))
	}
	h, data, err := decodeNPY(b)
	if err != nil {
		return fail(err)
	}
	if t := h.descr[1:]; t != "f4" && t != "f8" {
		return fail(fmt.Errorf("dtype %q; want float32 or float64", h.descr))
	}
	if h.fortran && len(h.shape) > 1 {
		return fail(errors.New("Fortran-ordered array; save it in C order"))
	}
	return data, h.shape, nil
}

// WriteArray32 writes float32 values of any shape (row-major) as a .npy
// array, the precision bench computes embeddings in. The file appears
// complete or not at all.
func WriteArray32(path string, data []float32, shape ...int) error {
	n := 1
	for _, d := range shape {
		n *= max(d, 0)
	}
	if len(shape) == 0 || n == 0 || len(data) != n {
		return fmt.Errorf("%s: cannot write %d values as an array of shape %v", path, len(data), shape)
	}
	if ext, _ := extension(path); ext != ".npy" {
		return fmt.Errorf("%s: arrays are written as .npy", path)
	}
	return writeAtomic(path, func(w io.Writer, _ string) error {
		// npyio writes float64 matrices only; the format is short: magic,
		// version 1.0, header length, a Python dict literal padded with
		// spaces to a multiple of 64 bytes ending in a newline, data.
		dims := make([]string, len(shape))
		for i, d := range shape {
			dims[i] = strconv.Itoa(d) + ","
		}
		header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", strings.Join(dims, " "))
		header += strings.Repeat(" ", 63-(10+len(header))%64) + "\n"
		buf := append([]byte("\x93NUMPY\x01\x00"), byte(len(header)), byte(len(header)>>8))
		buf = append(buf, header...)
		for _, v := range data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
		_, err := w.Write(buf)
		return err
	})
}
