package record

import (
	"bytes"
	"testing"
)

// FuzzDecodeCheckpoint reads any bytes as a checkpoint (safetensors with a
// checksummed state): an error or a checkpoint whose checksum holds.
func FuzzDecodeCheckpoint(f *testing.F) {
	for _, c := range []*Checkpoint{testCheckpoint("3"), {State: []byte("{}")}} {
		var buf bytes.Buffer
		c.Encode(&buf)
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeCheckpoint(data)
		if err != nil {
			return
		}
		for name, tv := range c.Tensors {
			if _, err := Floats(tv); err != nil && (tv.DType().String() == "F32" || tv.DType().String() == "F64") {
				t.Fatalf("%s: %v", name, err)
			}
		}
	})
}
