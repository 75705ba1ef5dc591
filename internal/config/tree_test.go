package config

import (
	"reflect"
	"testing"
)

func TestGetAndKeys(t *testing.T) {
	tree, _, err := loadGeneral(t, []string{"t: {train: {Resize: {size: 256}, Crop: {scale: [0.16, 1]}, Flip: }}\nn: 1\ntag: 2020-01-01\n"})
	if err != nil {
		t.Fatal(err)
	}
	got, ok := tree.Get("t.train")
	want := map[string]any{"Resize": map[string]any{"size": 256}, "Crop": map[string]any{"scale": []any{0.16, 1}}, "Flip": nil}
	if !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("Get = %#v, %v", got, ok)
	}
	if got := tree.Keys("t.train"); !reflect.DeepEqual(got, []string{"Resize", "Crop", "Flip"}) {
		t.Errorf("Keys = %v", got)
	}
	if got, _ := tree.Get("tag"); got != "2020-01-01" {
		t.Errorf("a date reads as %#v, want the text", got)
	}
	if got := tree.Keys(""); !reflect.DeepEqual(got, []string{"t", "n", "tag"}) {
		t.Errorf("Keys(root) = %v", got)
	}
	if _, ok := tree.Get("t.train.Rotate"); ok {
		t.Error("Get of a missing key found something")
	}
	if _, ok := tree.Get("n.x"); ok {
		t.Error("Get below a scalar found something")
	}
	if got := tree.Keys("n"); got != nil {
		t.Errorf("Keys of a scalar = %v", got)
	}
}

func TestSet(t *testing.T) {
	tree, root, err := loadGeneral(t, []string{"loss: {Triplet: {margin: 0.1, swap: false}}\nembedder: {Identity: }\nsampler: {M: }\n"})
	if err != nil {
		t.Fatal(err)
	}
	file := root + "/config_general/f0.yaml:1"
	// Resolved defaults: existing keys keep their order and, when unchanged,
	// their source; new keys come after, sorted.
	must(t, tree.Set("loss.Triplet", map[string]any{"swap": false, "margin": 0.1, "smooth": false, "eps": 1e-6}, "defaults"))
	must(t, tree.Set("embedder.Identity.x", 1, "defaults")) // through a null component
	must(t, tree.Set("sampler", map[string]any{"M": map[string]any{"m": 4}}, "defaults"))
	must(t, tree.SetTop("config_general", "patience", 9, "defaults"))
	want := "{loss: {Triplet: {margin: 0.1, swap: false, eps: 1e-06, smooth: false}}, embedder: {Identity: {x: 1}}, sampler: {M: {m: 4}}, patience: 9}"
	if got := flow(tree); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	for path, want := range map[string]string{"loss.Triplet.margin": file, "loss.Triplet.eps": "defaults", "patience": "defaults",
		"embedder.Identity": root + "/config_general/f0.yaml:2", "embedder.Identity.x": "defaults",
		"sampler.M": root + "/config_general/f0.yaml:3", "sampler.M.m": "defaults"} {
		if got := tree.Source(path); got != want {
			t.Errorf("Source(%q) = %q, want %q", path, got, want)
		}
	}
	if got := tree.Category("patience"); got != "config_general" {
		t.Errorf("Category(patience) = %q", got)
	}
	must(t, tree.Set("loss.Triplet.margin", 0.2, "--x"))
	if got := tree.Source("loss.Triplet.margin"); got != "--x" {
		t.Errorf("a changed value keeps source %q", got)
	}

	wantErr(t, tree.Set("nope.x", 1, "s"), "nope.x", `no top-level key "nope"`, "SetTop")
	wantErr(t, tree.Set("patience.x", 1, "s"), "patience.x", "patience is 9, not a map")
	wantErr(t, tree.Set("loss.x", struct{}{}, "s"), "cannot store a struct {}")
	must(t, tree.SetTop("config_models", "patience", 1, "s"))
	if got := tree.Category("patience"); got != "config_models" {
		t.Errorf("SetTop moves a key to its category; got %q", got)
	}
	wantErr(t, tree.SetTop("config_model", "x", 1, "s"), `unknown category "config_model"`)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
