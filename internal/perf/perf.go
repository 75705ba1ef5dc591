// Package perf measures the speed of a model: images per second of training
// steps or of embeddings, on data already in memory, with the achieved
// GFLOP/s set against the GEMM peak measured on the same machine, and the
// process's peak memory. `bench benchmark` prints it; the PyTorch script
// benchmarks/torch_reference.py times the same protocol.
package perf

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/gemm"
	"github.com/bench-ml/bench/internal/loss"
	"github.com/bench-ml/bench/internal/nn"
	"github.com/bench-ml/bench/internal/optim"
)

// ReferenceModels is the reference model of the throughput targets (also
// configs/config_models/reference_cnn.yaml): bench's default ConvNet, three
// blocks of 3x3 convolution, BatchNorm, ReLU and 2x2 max pooling with 32,
// 64 and 128 channels, global average pooling, then a Linear embedder of 64.
const ReferenceModels = "{trunk: {ConvNet: {channels: [32, 64, 128]}}, embedder: {MLP: {layer_sizes: [64]}}}"

// Options is what to measure.
type Options struct {
	Train    bool // training steps; false: embeddings in eval mode
	Trunk    nn.Trunk
	Embedder nn.Embedder
	Input    []int // one example: channels, height, width
	Batch    int
	Threads  int // GOMAXPROCS while measuring
	Warmup   int // untimed steps first
	Iters    int // timed steps
}

// Result is one measurement.
type Result struct {
	ImagesPerSec, MsPerStep float64
	// CPUMsPerStep is the process's CPU time per step: on a machine shared
	// with other work, less disturbed by the load than the wall clock; 0
	// where the OS does not say.
	CPUMsPerStep float64
	GFLOPs       float64 // achieved, from the model's multiply-adds
	PeakGFLOPs   float64 // of a large float32 GEMM on Threads cores
	PeakRSS      int64   // bytes; 0 where the OS does not say
}

// ParseModels builds the trunk and embedder of a models map in YAML
// ({trunk: ..., embedder: ...}, defaults as in the models config); flag
// names the flag it came from, for errors.
func ParseModels(text, flag string) (nn.Trunk, nn.Embedder, error) {
	var raw map[string]any
	if err := yaml.Unmarshal([]byte(text), &raw); err != nil {
		return nil, nil, fmt.Errorf("%s: not a YAML map: %s", flag, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	p := config.NewParams(raw, "models", flag)
	trunk := config.BuildNested(p, nn.Trunks, "trunk", config.C("ConvNet", nil))
	embedder := config.BuildNested(p, nn.Embedders, "embedder", config.C("MLP", nil))
	if err := p.Err(); err != nil {
		return nil, nil, err
	}
	return trunk, embedder, nil
}

// ParseShape reads an example shape such as 3x32x32.
func ParseShape(s string) ([]int, error) {
	var shape []int
	for _, f := range strings.Split(s, "x") {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a shape such as 3x32x32", s)
		}
		shape = append(shape, n)
	}
	return shape, nil
}

// Run builds the model and measures it. GOMAXPROCS is Threads while it runs.
func Run(o Options) (Result, error) {
	if o.Batch < 2 || o.Iters < 1 || o.Warmup < 0 || o.Threads < 1 {
		return Result{}, fmt.Errorf("perf: batch %d, iters %d, warmup %d, threads %d: want batch >= 2, iters >= 1, warmup >= 0, threads >= 1",
			o.Batch, o.Iters, o.Warmup, o.Threads)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(o.Threads))
	m, x, err := build(o)
	if err != nil {
		return Result{}, err
	}
	step, err := stepper(m, x, o.Train)
	if err != nil {
		return Result{}, err
	}
	for range o.Warmup {
		if err := step(); err != nil {
			return Result{}, err
		}
	}
	start, startCPU := time.Now(), cpuTime()
	for range o.Iters {
		if err := step(); err != nil {
			return Result{}, err
		}
	}
	elapsed, cpu := time.Since(start).Seconds(), cpuTime()-startCPU
	trainFLOPs, embedFLOPs := m.FLOPs()
	flops := embedFLOPs
	if o.Train {
		flops = trainFLOPs
	}
	images := float64(o.Batch * o.Iters)
	r := Result{
		ImagesPerSec: images / elapsed,
		MsPerStep:    1000 * elapsed / float64(o.Iters),
		CPUMsPerStep: 1000 * cpu.Seconds() / float64(o.Iters),
		GFLOPs:       flops * images / elapsed / 1e9,
		PeakRSS:      peakRSS(),
	}
	r.PeakGFLOPs = PeakGFLOPs(o.Threads)
	return r, nil
}

// build makes the model of o and a batch of random images for it.
func build(o Options) (*nn.Model[float32], []float32, error) {
	m, err := nn.New(nn.Config{Trunk: o.Trunk, Embedder: o.Embedder, InputShape: o.Input, BatchSize: o.Batch, EvalBatchSize: o.Batch, Seed: 1})
	if err != nil {
		return nil, nil, err
	}
	rng := rand.New(rand.NewSource(1))
	x := make([]float32, o.Batch*m.InputSize())
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return m, x, nil
}

// stepper returns one timed step: a training step with PML's default
// ContrastiveLoss on m = 4 images per class and an Adam update with lr 1e-3,
// or the embedding of one batch.
func stepper(m *nn.Model[float32], x []float32, train bool) (func() error, error) {
	n := m.BatchSize()
	if !train {
		return func() error { _, err := m.Embed(x, n); return err }, nil
	}
	l, _, err := loss.Losses.Build(config.C("ContrastiveLoss", nil))
	if err != nil {
		return nil, err
	}
	cfg, _, err := optim.Optimizers.Build(config.C("Adam", map[string]any{"lr": 1e-3}))
	if err != nil {
		return nil, err
	}
	var params []*optim.Param[float32]
	for _, group := range m.Groups() {
		params = append(params, group...)
	}
	opt := optim.New(cfg, params)
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i / 4
	}
	d := m.EmbeddingSize()
	emb64 := make([]float64, n*d)
	grad := make([]float32, n*d)
	lossGrad := func(out nn.Outputs[float32]) (nn.Grads[float32], error) {
		for i, v := range out.Emb {
			emb64[i] = float64(v)
		}
		_, g, err := l.Compute(emb64, n, d, labels, nil)
		for i, v := range g {
			grad[i] = float32(v)
		}
		return nn.Grads[float32]{Emb: grad}, err
	}
	return func() error {
		if err := m.TrainStep(x, lossGrad); err != nil {
			return err
		}
		opt.Step()
		return nil
	}, nil
}

// PeakGFLOPs measures the float32 GEMM peak of the machine on threads
// cores: each core multiplies its own 384x384 matrices, which fit its
// caches, for about a fifth of a second.
func PeakGFLOPs(threads int) float64 {
	const size, reps = 384, 8
	done := make(chan float64)
	for range threads {
		go func() {
			a := gemm.Matrix{Data: make([]float32, size*size), Stride: size}
			for i := range a.Data {
				a.Data[i] = float32(i%7) - 3
			}
			c := make([]float32, size*size)
			gemm.Sgemm(size, size, size, a, a, 0, c, size) // warm up
			start := time.Now()
			for range reps {
				gemm.Sgemm(size, size, size, a, a, 0, c, size)
			}
			done <- 2 * size * size * size * reps / time.Since(start).Seconds() / 1e9
		}()
	}
	var total float64
	for range threads {
		total += <-done
	}
	return total
}

// peakRSS is the process's peak resident memory (VmHWM), 0 where
// /proc/self/status is missing.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// Write prints the result as "key: value" lines, the format
// benchmarks/torch_reference.py prints too, so that the two compare line by
// line.
func (r Result) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "images/s: %.1f\n", r.ImagesPerSec)
	fmt.Fprintf(&b, "ms/step: %.2f\n", r.MsPerStep)
	if r.CPUMsPerStep > 0 {
		fmt.Fprintf(&b, "CPU ms/step: %.2f\n", r.CPUMsPerStep)
	}
	fmt.Fprintf(&b, "GFLOP/s: %.1f\n", r.GFLOPs)
	if r.PeakGFLOPs > 0 {
		fmt.Fprintf(&b, "GEMM peak GFLOP/s: %.1f (%.0f%% reached)\n", r.PeakGFLOPs, 100*r.GFLOPs/r.PeakGFLOPs)
	}
	if r.PeakRSS > 0 {
		fmt.Fprintf(&b, "peak memory MiB: %.1f\n", float64(r.PeakRSS)/(1<<20))
	} else {
		b.WriteString("peak memory MiB: unknown\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
