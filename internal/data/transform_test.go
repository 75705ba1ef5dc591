package data

import (
	"image"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/config"
	"github.com/disintegration/imaging"
)

// grayImage makes a w x h image with pixel (x, y) = f(x, y).
func grayImage(w, h int, f func(x, y int) uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Pix[y*w+x] = f(x, y)
		}
	}
	return img
}

// grayPix reads an image's red channel (its gray level) row by row.
func grayPix(img image.Image) [][]uint8 {
	n := imaging.Clone(img)
	rows := make([][]uint8, n.Rect.Dy())
	for y := range rows {
		for x := range n.Rect.Dx() {
			rows[y] = append(rows[y], n.Pix[y*n.Stride+4*x])
		}
	}
	return rows
}

func imageOp(t *testing.T, typ string, params map[string]any) imageTransform {
	t.Helper()
	return build(t, Transforms, typ, params).(imageTransform)
}

func TestResizeKnown(t *testing.T) {
	// Rows 0, 60, 120, 180 halved: PIL's antialiased bilinear filter spans
	// 2 source pixels each side of the output centre (at 0.5 and 2.5), with
	// weights 1-|d|/2: (0*.75 + 60*.75 + 120*.25)/1.75 = 42.86 and
	// (60*.25 + 120*.75 + 180*.75)/1.75 = 137.14.
	ramp := grayImage(4, 4, func(x, _ int) uint8 { return uint8(60 * x) })
	got := grayPix(imageOp(t, "Resize", map[string]any{"size": 2}).apply(ramp, nil))
	if want := [][]uint8{{43, 137}, {43, 137}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Resize 4x4 -> 2: %v, want %v", got, want)
	}
	// The shorter side becomes size (torchvision: the longer is truncated).
	for _, tc := range []struct{ w, h, size, wantW, wantH int }{
		{10, 6, 3, 5, 3}, {6, 10, 4, 4, 6}, {7, 7, 3, 3, 3}, {105, 105, 28, 28, 28},
	} {
		img := imageOp(t, "Resize", map[string]any{"size": tc.size}).apply(image.NewGray(image.Rect(0, 0, tc.w, tc.h)), nil)
		if b := img.Bounds(); b.Dx() != tc.wantW || b.Dy() != tc.wantH {
			t.Errorf("Resize %d of %dx%d: %dx%d, want %dx%d", tc.size, tc.w, tc.h, b.Dx(), b.Dy(), tc.wantW, tc.wantH)
		}
	}
}

func TestCenterCropKnown(t *testing.T) {
	img := grayImage(5, 4, func(x, y int) uint8 { return uint8(10*y + x + 1) })
	for _, tc := range []struct {
		size int
		want [][]uint8
	}{
		// Width 5 -> 3: offset 1. Height 4 -> 3: offset round(0.5) = 0 (to even).
		{3, [][]uint8{{2, 3, 4}, {12, 13, 14}, {22, 23, 24}}},
		// 4 -> 2: offset 1; 5 -> 2: offset round(1.5) = 2.
		{2, [][]uint8{{13, 14}, {23, 24}}},
		// Larger than the image: padded with black, image at floor((6-5)/2) = 0
		// across and (6-4)/2 = 1 down.
		{6, [][]uint8{{0, 0, 0, 0, 0, 0}, {1, 2, 3, 4, 5, 0}, {11, 12, 13, 14, 15, 0},
			{21, 22, 23, 24, 25, 0}, {31, 32, 33, 34, 35, 0}, {0, 0, 0, 0, 0, 0}}},
	} {
		got := grayPix(imageOp(t, "CenterCrop", map[string]any{"size": tc.size}).apply(img, nil))
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("CenterCrop %d: %v, want %v", tc.size, got, tc.want)
		}
	}
}

func TestFlipAndRotate(t *testing.T) {
	img := grayImage(3, 2, func(x, y int) uint8 { return uint8(10*y + x) })
	rng := rand.New(rand.NewPCG(1, 2))
	flipped := grayPix(imageOp(t, "RandomHorizontalFlip", map[string]any{"p": 1.0}).apply(img, rng))
	if want := [][]uint8{{2, 1, 0}, {12, 11, 10}}; !reflect.DeepEqual(flipped, want) {
		t.Errorf("flip: %v, want %v", flipped, want)
	}
	if same := grayPix(imageOp(t, "RandomHorizontalFlip", map[string]any{"p": 0.0}).apply(img, rng)); !reflect.DeepEqual(same, grayPix(img)) {
		t.Errorf("flip with p=0 changed the image: %v", same)
	}

	for _, n := range []int{5, 6} {
		sq := grayImage(n, n, func(x, y int) uint8 { return uint8(n*y + x) })
		if got, want := grayPix(rotate(sq, 90)), grayPix(imaging.Rotate90(sq)); !reflect.DeepEqual(got, want) {
			t.Errorf("rotate %dx%d by 90: %v, want imaging.Rotate90's %v", n, n, got, want)
		}
		if got := grayPix(rotate(sq, 0)); !reflect.DeepEqual(got, grayPix(sq)) {
			t.Errorf("rotate by 0 changed the image")
		}
	}
	// 45 degrees uncovers the corners (black), keeps the centre and the size.
	white := grayImage(9, 9, func(int, int) uint8 { return 255 })
	got := grayPix(rotate(white, 45))
	if len(got) != 9 || got[0][0] != 0 || got[4][4] != 255 {
		t.Errorf("rotate 45: corner %d, centre %d, want 0 and 255", got[0][0], got[4][4])
	}
}

func TestRandomResizedCropWindow(t *testing.T) {
	op := RandomResizedCrop{Size: 8, Scale: [2]float64{0.25, 0.5}, Ratio: [2]float64{0.5, 2}}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		r := op.window(40, 60, rng)
		if !r.In(image.Rect(0, 0, 60, 40)) || r.Empty() {
			t.Fatalf("window %v outside 60x40", r)
		}
		area := float64(r.Dx()*r.Dy()) / (40 * 60)
		aspect := float64(r.Dx()) / float64(r.Dy())
		if area < 0.2 || area > 0.55 || aspect < 0.45 || aspect > 2.2 {
			t.Fatalf("window %v: area %.3f, aspect %.2f out of range", r, area, aspect)
		}
	}
	// No draw can fit a 1:1 window of 90% in a 10:1 image: the fallback is
	// the central crop clamped to the largest ratio.
	wide := RandomResizedCrop{Size: 8, Scale: [2]float64{0.9, 0.9}, Ratio: [2]float64{1, 1}}
	if r := wide.window(10, 100, rng); r != image.Rect(45, 0, 55, 10) {
		t.Errorf("fallback window %v, want (45,0)-(55,10)", r)
	}
	img := op.apply(image.NewGray(image.Rect(0, 0, 60, 40)), rng)
	if b := img.Bounds(); b.Dx() != 8 || b.Dy() != 8 {
		t.Errorf("RandomResizedCrop output %v, want 8x8", b)
	}
}

func TestColorTransforms(t *testing.T) {
	px := [][3]float64{{0.2, 0.4, 0.8}, {1, 0.5, 0}}
	blend(px, 1.5, func([3]float64) float64 { return 0 }) // brightness
	if want := [][3]float64{{0.2 * 1.5, 0.4 * 1.5, 1}, {1, 0.75, 0}}; !near(px, want) {
		t.Errorf("brightness 1.5: %v, want %v", px, want)
	}
	// A full turn of hue is the identity; a third of a turn maps red to green.
	if got := shiftHue([3]float64{0.9, 0.3, 0.1}, 1); !near([][3]float64{got}, [][3]float64{{0.9, 0.3, 0.1}}) {
		t.Errorf("hue +1 turn: %v", got)
	}
	if got := shiftHue([3]float64{1, 0, 0}, 1.0/3); !near([][3]float64{got}, [][3]float64{{0, 1, 0}}) {
		t.Errorf("hue +1/3 turn of red: %v, want green", got)
	}
	// On a gray image, saturation and hue change nothing.
	g := grayImage(4, 4, func(x, y int) uint8 { return uint8(16 * (x + 4*y)) })
	jitter := imageOp(t, "ColorJitter", map[string]any{"saturation": 0.9, "hue": 0.5})
	if got := grayPix(jitter.apply(g, rand.New(rand.NewPCG(5, 6)))); !reflect.DeepEqual(got, grayPix(g)) {
		t.Errorf("saturation and hue changed a gray image: %v", got)
	}
	rgb := imaging.New(2, 1, image.White.C)
	rgb.Pix[0], rgb.Pix[1], rgb.Pix[2] = 255, 0, 0
	gray := imageOp(t, "Grayscale", nil).apply(rgb, nil)
	if got := grayPix(gray); got[0][0] != 76 || got[0][1] != 255 {
		t.Errorf("Grayscale of red, white: %v, want [76 255]", got)
	}
}

func near(a, b [][3]float64) bool {
	for i := range a {
		for c := range 3 {
			if math.Abs(a[i][c]-b[i][c]) > 1e-12 {
				return false
			}
		}
	}
	return len(a) == len(b)
}

func components(list ...any) []config.Component {
	var cs []config.Component
	for i := 0; i < len(list); i += 2 {
		params, _ := list[i+1].(map[string]any)
		cs = append(cs, config.Component{Type: list[i].(string), Params: params, Where: "transforms.train"})
	}
	return cs
}

func TestPipelineShapes(t *testing.T) {
	for _, tc := range []struct {
		in, want Shape
		cs       []config.Component
	}{
		{Shape{1, 105, 105}, Shape{1, 105, 105}, nil},
		{Shape{1, 105, 105}, Shape{1, 28, 28}, components("Resize", map[string]any{"size": 28})},
		{Shape{3, 0, 0}, Shape{3, 24, 24}, components("Resize", map[string]any{"size": 32}, "CenterCrop", map[string]any{"size": 24})},
		{Shape{3, 40, 60}, Shape{1, 20, 30}, components("Resize", map[string]any{"size": 20}, "Grayscale", nil)},
		{Shape{1, 32, 32}, Shape{3, 16, 16}, components("RandomResizedCrop", map[string]any{"size": 16}, "Grayscale", map[string]any{"num_output_channels": 3},
			"RandomHorizontalFlip", nil, "RandomRotation", map[string]any{"degrees": 10}, "ColorJitter", map[string]any{"brightness": 0.2},
			"ToTensor", nil, "Normalize", map[string]any{"mean": []any{0.485, 0.456, 0.406}, "std": []any{0.229, 0.224, 0.225}})},
	} {
		p, err := NewPipeline(tc.cs)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := p.OutputShape(tc.in); err != nil || got != tc.want {
			t.Errorf("%v on %v: %v (%v), want %v", tc.cs, tc.in, got, err, tc.want)
		}
	}

	for _, tc := range []struct {
		in   Shape
		cs   []config.Component
		want string
	}{
		{Shape{3, 0, 0}, components("Resize", map[string]any{"size": 32}), "CenterCrop or RandomResizedCrop"},
		{Shape{1, 32, 32}, components("Normalize", map[string]any{"mean": []any{0.5, 0.5, 0.5}, "std": []any{0.5, 0.5, 0.5}}),
			"transforms.train.Normalize: mean and std need one value per channel (1)"},
	} {
		p, err := NewPipeline(tc.cs)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.OutputShape(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v on %v: got %v, want an error containing %q", tc.cs, tc.in, err, tc.want)
		}
	}

	for _, tc := range []struct {
		cs   []config.Component
		want string
	}{
		{components("Normalize", map[string]any{"mean": []any{0.5}, "std": []any{0.5}}, "Resize", map[string]any{"size": 8}),
			"transforms.train.Resize: an image transform cannot come after"},
		{components("ToTensor", nil, "ToTensor", nil), "only once"},
		{components("Normalize", map[string]any{"mean": []any{0.5}}), "std: required"},
		{components("Normalize", map[string]any{"mean": []any{0.5}, "std": []any{0}}), "std"},
		{components("Resize", nil), "size: required"},
		{components("RandomResizedCrop", map[string]any{"size": 8, "scale": []any{1, 0.5}}), "want [min, max]"},
		{components("Grayscale", map[string]any{"num_output_channels": 2}), "want 1 or 3"},
		{components("ColorJitter", map[string]any{"hue": 0.7}), "hue"},
		{components("RandomCrap", nil), "unknown transform"},
	} {
		if _, err := NewPipeline(tc.cs); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error containing %q", tc.cs, err, tc.want)
		}
	}
}

func TestPipelineValues(t *testing.T) {
	// ToTensor then Normalize: (x/255 - 0.5) / 0.25, per channel planes.
	img := grayImage(3, 1, func(x, _ int) uint8 { return []uint8{0, 51, 255}[x] })
	p, err := NewPipeline(components("Grayscale", map[string]any{"num_output_channels": 3},
		"Normalize", map[string]any{"mean": []any{0.5, 0, 0.5}, "std": []any{0.25, 1, 0.5}}))
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.OutputShape(Shape{1, 1, 3})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, out.C*out.H*out.W)
	if err := p.apply(img, nil, out, x); err != nil {
		t.Fatal(err)
	}
	want := []float32{-2, -1.2, 2, 0, 0.2, 1, -1, -0.6, 1}
	for i := range want {
		if math.Abs(float64(x[i]-want[i])) > 1e-6 {
			t.Fatalf("tensor %v, want %v", x, want)
		}
	}
}

// TestColorJitterRanges: each ColorJitter parameter as torchvision takes
// it, a number or a [min, max] range, also in powerful_benchmarker's
// string form; the same range draws the same image.
func TestColorJitterRanges(t *testing.T) {
	for _, tc := range []struct {
		params map[string]any
		want   ColorJitter
	}{
		{map[string]any{"brightness": 0.4, "hue": 0.1},
			ColorJitter{Brightness: jitterRange{0.6, 1.4, true}, Contrast: jitterRange{1, 1, false}, Saturation: jitterRange{1, 1, false}, Hue: jitterRange{-0.1, 0.1, true}}},
		{map[string]any{"brightness": 1.5, "contrast": []any{0.5, 1.5}, "saturation": "0.3 0.5", "hue": []any{-0.2, 0.1}},
			ColorJitter{Brightness: jitterRange{0, 2.5, true}, Contrast: jitterRange{0.5, 1.5, true}, Saturation: jitterRange{0.3, 0.5, true}, Hue: jitterRange{-0.2, 0.1, true}}},
		{map[string]any{"contrast": []any{1, 1}}, ColorJitter{Brightness: jitterRange{1, 1, false}, Contrast: jitterRange{1, 1, false}, Saturation: jitterRange{1, 1, false}}},
	} {
		if got := build(t, Transforms, "ColorJitter", tc.params); got != tc.want {
			t.Errorf("%v: %+v, want %+v", tc.params, got, tc.want)
		}
	}
	img := imaging.New(4, 4, image.White.C)
	for i := range img.Pix {
		img.Pix[i] = uint8(37 * i)
	}
	number := imageOp(t, "ColorJitter", map[string]any{"brightness": 0.4, "saturation": 0.2}).apply(img, rand.New(rand.NewPCG(1, 2)))
	pair := imageOp(t, "ColorJitter", map[string]any{"brightness": "0.6 1.4", "saturation": []any{0.8, 1.2}}).apply(img, rand.New(rand.NewPCG(1, 2)))
	if !reflect.DeepEqual(number, pair) {
		t.Error("brightness 0.4 and its range 0.6 1.4 draw different images")
	}
	for _, bad := range []map[string]any{{"brightness": []any{1.2, 0.8}}, {"hue": []any{-0.6, 0}}, {"saturation": []any{-0.1, 1}}, {"contrast": "0.1 0.2 0.3"}} {
		if err := buildErr(Transforms, "ColorJitter", bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
