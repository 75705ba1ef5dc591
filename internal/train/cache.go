package train

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/bench-ml/bench/internal/arrayio"
	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/data"
	"github.com/bench-ml/bench/internal/nn"
	"github.com/bench-ml/bench/internal/spec"
)

// The frozen-trunk feature cache. A trunk that is never trained (no
// trunk_optimizer, or freeze_trunk) gives every image the same output at
// every epoch, so its outputs are computed once per image, with the eval
// transforms and the trunk in evaluation mode (BatchNorm's running
// statistics, as freeze_trunk_batchnorm), saved, and the embedder trains
// and evaluates on them through an Identity trunk. The file is keyed by
// everything the outputs depend on: the trunk's config and weights, the
// eval transforms and the dataset, so a change to any of them computes
// new features and an unchanged run reuses them across folds, runs and
// experiments.

// cacheVersion changes when the cached values would change for the same
// key (a fix to a layer).
const cacheVersion = "bench-feature-cache-1"

// cacheBatch bounds the images per forward pass while filling the cache:
// a graph keeps every activation of its batch, gigabytes for an ImageNet
// trunk at 128 images, and larger batches are no faster.
const cacheBatch = 16

// featureCacheDir is the cache's folder under --root_experiment_folder.
const featureCacheDir = ".feature_cache"

// trunkFrozen reports whether the spec trains no trunk weights.
func trunkFrozen(s *spec.Spec) bool {
	_, trained := s.Optimizers["trunk_optimizer"]
	return s.FreezeTrunk || !trained
}

// useFeatureCache switches the env to cached trunk outputs under dir,
// computing and saving them when they are not there yet: the eval
// transforms' output of every image, on which evaluation runs and, unless
// feature_cache.augmentations asks for K random augmentations of every
// image (a second file, keyed by the train transforms, K and the seed too),
// training.
func (e *env) useFeatureCache(ctx context.Context, dir string, log *logger) error {
	s := e.spec
	trunk := s.Trunk.Value
	key, err := e.cacheKey(nn.PretrainedFile(trunk))
	if err != nil {
		return err
	}
	// The model is built only when a file has to be computed. Its seed is
	// the one each fold's model would use, so an untrained trunk is
	// initialised the same way.
	var m *nn.Model[float32]
	features := func(name string, src source, versions int) ([]float32, int, error) {
		path := filepath.Join(dir, name+".npy")
		n := e.ds.Len() * versions
		if x, dim, err := readFeatures(path, n); err == nil {
			log.Info("trunk outputs from the feature cache", "file", path)
			return x, dim, nil
		}
		if m == nil {
			shape := e.evalData.Shape()
			if m, err = nn.New(nn.Config{Trunk: trunk, InputShape: []int{shape.C, shape.H, shape.W}, BatchSize: 2,
				EvalBatchSize: min(s.Tester.BatchSize, cacheBatch), Seed: int64(s.Seed)}); err != nil {
				return nil, 0, err
			}
		}
		x, err := e.computeFeatures(ctx, m, src, versions)
		if err != nil {
			return nil, 0, err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, 0, err
		}
		if err := arrayio.WriteArray32(path, x, n, m.TrunkSize()); err != nil {
			return nil, 0, err
		}
		log.Info("trunk outputs computed", "images", e.ds.Len(), "versions", versions, "file", path)
		return x, m.TrunkSize(), nil
	}
	x, dim, err := features(key, e.evalData, 1)
	if err != nil {
		return err
	}
	labels := data.Labels(e.ds)
	evalData, err := data.NewFeatureLoader(x, dim, labels)
	if err != nil {
		return err
	}
	trainData := evalData
	if k := s.CachedAugmentations; k > 0 {
		augKey, err := augmentationKey(key, e.trainTransforms, k, s.Seed)
		if err != nil {
			return err
		}
		xa, dim, err := features(augKey, e.trainData, k)
		if err != nil {
			return err
		}
		if trainData, err = data.NewVersionedFeatureLoader(xa, dim, k, labels, s.Seed); err != nil {
			return err
		}
	}
	identity, _, err := nn.Trunks.Build(config.C("Identity", nil))
	if err != nil {
		return err
	}
	e.trainData, e.evalData, e.trunk = trainData, evalData, identity
	return nil
}

// computeFeatures runs the trunk over versions transformed copies of every
// item of src's dataset: n x versions rows, an item's versions together.
// Version v of a chunk is loaded as its own step, so that a random
// transform draws differently for every item and version. A cancelled ctx
// (SIGINT, SIGTERM: a Slurm preemption) stops it between chunks, before
// anything is written.
func (e *env) computeFeatures(ctx context.Context, m *nn.Model[float32], src source, versions int) ([]float32, error) {
	n := e.ds.Len()
	chunk := min(e.spec.Tester.BatchSize, cacheBatch)
	chunks := (n + chunk - 1) / chunk
	dim := m.TrunkSize()
	out := make([]float32, n*versions*dim)
	bar := e.bars.Bar("trunk outputs", n*versions, "img", 1, nil)
	defer bar.Done()
	items := make([]int, n)
	for i := range items {
		items[i] = i
	}
	batches := src.Prefetch(0, func(step int) []int {
		if step >= chunks*versions {
			return nil
		}
		c := step % chunks
		return items[c*chunk : min((c+1)*chunk, n)]
	})
	defer batches.Close()
	done := 0
	for step := 0; step < chunks*versions; step++ {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("stopped computing the trunk outputs of the feature cache after %d of %d images, nothing written (run again to compute them): %w",
				done, n*versions, context.Cause(ctx))
		}
		b, err := batches.Next()
		if err != nil {
			return nil, err
		}
		f, err := m.EmbedTrunk(b.X, len(b.Labels))
		if err != nil {
			return nil, err
		}
		v, first := step/chunks, (step%chunks)*chunk
		for j := range b.Labels {
			copy(out[((first+j)*versions+v)*dim:][:dim], f[j*dim:(j+1)*dim])
		}
		done += len(b.Labels)
		bar.Set(done)
	}
	return out, nil
}

// readFeatures reads a cache file of n rows; any problem (a missing,
// partial or foreign file) means computing the features again.
func readFeatures(path string, n int) ([]float32, int, error) {
	data, shape, err := arrayio.ReadArray(path)
	if err != nil {
		return nil, 0, err
	}
	if len(shape) != 2 || shape[0] != n {
		return nil, 0, fmt.Errorf("%s: shape %v; want %d rows", path, shape, n)
	}
	x := make([]float32, len(data))
	for i, v := range data {
		x[i] = float32(v)
	}
	return x, shape[1], nil
}

// cacheKey hashes what the trunk outputs depend on.
func (e *env) cacheKey(weights string) (string, error) {
	s := e.spec
	h := sha256.New()
	part := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		h.Write(b)
		h.Write([]byte{0})
		return nil
	}
	seed := s.Seed // initialises a trunk without weights
	if weights != "" {
		seed = 0
	}
	for _, v := range []any{cacheVersion, componentKey(s.Trunk.Component), seed, e.evalData.Shape(), len(e.evalTransforms)} {
		if err := part(v); err != nil {
			return "", err
		}
	}
	for _, c := range e.evalTransforms {
		if err := part(componentKey(c)); err != nil {
			return "", err
		}
	}
	if weights != "" {
		f, err := os.Open(weights)
		if err != nil {
			return "", err
		}
		defer f.Close()
		if _, err := io.Copy(h, f); err != nil {
			return "", fmt.Errorf("%s: %w", weights, err)
		}
	}
	if err := part(e.ds.Classes()); err != nil {
		return "", err
	}
	n := e.ds.Len()
	for i := range n {
		fmt.Fprintf(h, "%d\x00%s\x00", e.ds.Label(i), e.ds.Source(i))
	}
	// Names alone miss a regenerated dataset (Glyphs with other
	// parameters): a few images' pixels catch it.
	for _, i := range []int{0, n / 2, n - 1} {
		img, err := e.ds.Image(i)
		if err != nil {
			return "", err
		}
		b := img.Bounds()
		fmt.Fprint(h, b)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl, a := img.At(x, y).RGBA()
				fmt.Fprint(h, r, g, bl, a)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:24], nil
}

// augmentationKey names the file of k augmented versions of the images
// whose eval outputs are under key: the train transforms and the seed
// draw them.
func augmentationKey(key string, transforms []config.Component, k int, seed uint64) (string, error) {
	parts := []any{key, k, seed}
	for _, c := range transforms {
		parts = append(parts, componentKey(c))
	}
	b, err := json.Marshal(parts)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(b)
	return key + "-aug" + fmt.Sprint(k) + "-" + hex.EncodeToString(h[:])[:16], nil
}

// componentKey is a component's identity: its type and parameters.
func componentKey(c config.Component) []any {
	keys := make([]string, 0, len(c.Params))
	for k := range c.Params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := []any{c.Type}
	for _, k := range keys {
		out = append(out, k, c.Params[k])
	}
	return out
}
