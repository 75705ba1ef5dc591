package data

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"testing"
	"testing/fstest"
)

func FuzzParseMAT(f *testing.F) {
	for _, w := range []matWriter{{binary.LittleEndian}, {binary.BigEndian}} {
		f.Add(w.file(w.char("name", "a.jpg"), w.uint8s("labels", 1, 2)))
		f.Add(w.file(w.compressed(w.cell("paths", w.char("", "x/y.jpg"), w.char("", "z.jpg")))))
		f.Add(w.file(w.structArray("annotations", []string{"fname", "class"},
			[][]byte{w.char("", "0001.jpg"), w.doubleAsBytes("", 3)})))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		parseMAT(data)
	})
}

// FuzzDecodeImage decodes any bytes as an image file, with a pixel limit
// small enough that a claimed size cannot make the fuzzer slow.
func FuzzDecodeImage(f *testing.F) {
	defer func(n int) { MaxImagePixels = n }(MaxImagePixels)
	MaxImagePixels = 1 << 16
	for _, img := range []image.Image{image.NewGray(image.Rect(0, 0, 3, 2)), image.NewNRGBA(image.Rect(0, 0, 2, 2))} {
		for _, encode := range []func(io.Writer, image.Image) error{png.Encode, func(w io.Writer, m image.Image) error { return gif.Encode(w, m, nil) },
			func(w io.Writer, m image.Image) error { return jpeg.Encode(w, m, nil) }} {
			var buf bytes.Buffer
			encode(&buf, img)
			f.Add(buf.Bytes())
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := decodeImage(fstest.MapFS{"x.png": {Data: data}}, "x.png")
		if err == nil && img.Bounds().Dx()*img.Bounds().Dy() > MaxImagePixels {
			t.Fatalf("decoded %v, more than the limit", img.Bounds())
		}
	})
}
