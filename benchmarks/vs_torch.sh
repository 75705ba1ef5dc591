#!/bin/sh
# Times bench and PyTorch on the reference model, alternating one run of
# each ROUNDS times per (mode, threads) so that both see the same load, and
# prints each pair of images/s and CPU ms/step with the medians of their
# ratios: images/s bench / torch, and CPU time torch / bench (on a loaded
# machine the wall clock also measures the other work; with one thread the
# CPU-time ratio is what the throughput ratio would be on a quiet one).
# Usage: benchmarks/vs_torch.sh BENCH PYTHON [ROUNDS] [THREADS...]
# MODEL=resnet50 or bninception times that zoo trunk with a Linear embedder
# of 64 instead of the reference model; ARGS (such as --input 3x224x224
# --batch 8 --iters 3 --warmup 1) go to both.
set -eu
bench=$1 python=$2 rounds=${3:-3}
shift 2; [ $# -gt 0 ] && shift
threads=${*:-1 2}
model=${MODEL:-reference} args=${ARGS:-}
models=
[ "$model" = reference ] || models="{trunk: {$model: {}}, embedder: {MLP: {layer_sizes: [64]}}}"
dir=$(dirname "$0")
field() { awk -v key="$1" 'index($0, key ": ") == 1 { print $NF }'; }
median() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for mode in train embed; do
	for t in $threads; do
		ratios= cpus=
		for r in $(seq "$rounds"); do
			# shellcheck disable=SC2086 # ARGS is a list of arguments
			b=$("$bench" benchmark "$mode" --threads "$t" ${models:+--models "$models"} $args)
			# shellcheck disable=SC2086
			p=$("$python" "$dir/torch_reference.py" "$mode" --threads "$t" --model "$model" $args)
			bi=$(echo "$b" | field images/s) pi=$(echo "$p" | field images/s)
			bc=$(echo "$b" | field "CPU ms/step") pc=$(echo "$p" | field "CPU ms/step")
			ratio=$(awk -v b="$bi" -v p="$pi" 'BEGIN { printf "%.2f", b / p }')
			cpu=$(awk -v b="$bc" -v p="$pc" 'BEGIN { printf "%.2f", p / b }')
			echo "$model $mode threads=$t round $r: bench $bi images/s ($bc CPU ms/step), torch $pi images/s ($pc CPU ms/step): ratio $ratio, CPU-time ratio $cpu"
			ratios="$ratios $ratio" cpus="$cpus $cpu"
		done
		echo "$model $mode threads=$t: median over $rounds rounds: images/s bench/torch $(echo "$ratios" | median), CPU time torch/bench $(echo "$cpus" | median)"
	done
done
