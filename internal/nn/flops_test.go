package nn

import "testing"

// FLOPs counts the convolutions' and linear layers' multiply-adds twice:
// forward, weight gradient and, past the first layer, input gradient.
func TestFLOPs(t *testing.T) {
	m, err := New(Config{
		Trunk:      component(t, Trunks, "ConvNet", map[string]any{"channels": []any{4}}),
		Embedder:   component(t, Embedders, "MLP", map[string]any{"layer_sizes": []any{3}}),
		InputShape: []int{2, 8, 8},
		BatchSize:  4,
		Seed:       1,
	})
	if err != nil {
		t.Fatal(err)
	}
	conv, linear := 4*2*9*8*8, 4*3
	train, embed := m.FLOPs()
	if want := float64(2 * (conv + linear)); embed != want {
		t.Errorf("embed FLOPs %v; want %v", embed, want)
	}
	if want := float64(2 * (2*conv + 3*linear)); train != want {
		t.Errorf("train FLOPs %v; want %v", train, want)
	}
}
