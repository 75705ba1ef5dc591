#!/bin/sh
# Times bench and PyTorch on the reference model, alternating one run of
# each ROUNDS times per (mode, threads) so that both see the same load, and
# prints each pair of images/s and the median of their ratios (bench / torch).
# Usage: benchmarks/vs_torch.sh BENCH PYTHON [ROUNDS] [THREADS...]
set -eu
bench=$1 python=$2 rounds=${3:-3}
shift 2; [ $# -gt 0 ] && shift
threads=${*:-1 2}
dir=$(dirname "$0")
rate() { awk '$1 == "images/s:" { print $2 }'; }
for mode in train embed; do
	for t in $threads; do
		ratios=
		for r in $(seq "$rounds"); do
			b=$("$bench" benchmark "$mode" --threads "$t" | rate)
			p=$("$python" "$dir/torch_reference.py" "$mode" --threads "$t" | rate)
			ratio=$(awk -v b="$b" -v p="$p" 'BEGIN { printf "%.2f", b / p }')
			echo "$mode threads=$t round $r: bench $b images/s, torch $p images/s, ratio $ratio"
			ratios="$ratios $ratio"
		done
		median=$(echo "$ratios" | tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
		echo "$mode threads=$t: median ratio bench/torch $median over $rounds rounds"
	done
done
