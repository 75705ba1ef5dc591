#!/bin/sh
# Runs the experiment of `make run` on the built-in Omniglot in bench and in
# PyTorch (benchmarks/torch_run.py, the same protocol), alternating one run of
# each ROUNDS times per thread count so that both see the same load, each
# under /usr/bin/time -v, and prints side by side the whole run's wall and CPU
# seconds divided by the number of epochs (start-up, untrained and test
# evaluations included, the same work on both sides), the peak resident
# memory, and the ratios bench / PyTorch. On a loaded machine quote the CPU
# seconds: the wall clock also measures the other work.
# Usage: benchmarks/run_vs_torch.sh BENCH PYTHON [ROUNDS] [THREADS...]
# EPOCHS (default 6), ITERS (iterations per epoch, default 50) and FOLDS (the
# first N folds, default 4: the whole experiment) go to both; bench runs one
# fold with --fold 0 when FOLDS is 1.
set -eu
bench=$1 python=$2 rounds=${3:-1}
shift 2; [ $# -gt 0 ] && shift
threads=${*:-1 2}
epochs=${EPOCHS:-6} iters=${ITERS:-50} folds=${FOLDS:-4}
[ "$folds" = 1 ] || [ "$folds" = 4 ] || { echo "FOLDS must be 1 or 4" >&2; exit 2; }
dir=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fold=; [ "$folds" = 1 ] && fold="--fold 0"
# timed LABEL CMD...: runs CMD under /usr/bin/time -v and prints
# "wall CPU peakMiB" of it (the output of CMD goes to $tmp/LABEL.out).
timed() {
	label=$1; shift
	/usr/bin/time -v -o "$tmp/$label.time" "$@" >"$tmp/$label.out" 2>&1 || { tail -20 "$tmp/$label.out" >&2; exit 1; }
	awk '/Elapsed \(wall clock\)/ { n = split($NF, t, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + t[i] }
		/User time/ || /System time/ { c += $NF }
		/Maximum resident/ { m = $NF / 1024 }
		END { printf "%.1f %.1f %.0f\n", w, c, m }' "$tmp/$label.time"
}
n=$((folds * epochs))
echo "$folds fold(s) x $epochs epochs x $iters iterations; per epoch = whole run / $n; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for t in $threads; do
	for r in $(seq "$rounds"); do
		# shellcheck disable=SC2086 # $fold is empty or two arguments
		b=$(GOMAXPROCS=$t timed bench "$bench" run --quiet --experiment_name "vs_torch_${t}_$r" \
			--root_experiment_folder "$tmp" --dataset_root "$dir/../datasets" \
			--config_dataset default omniglot --config_transforms default omniglot \
			--num_epochs_train "$epochs" --iterations_per_epoch "$iters" --patience null $fold)
		p=$(OMP_NUM_THREADS=$t timed torch "$python" "$dir/torch_run.py" --threads "$t" \
			--epochs "$epochs" --iters "$iters" --folds "$folds")
		echo "$b $p" | awk -v t="$t" -v r="$r" -v n="$n" -v load="$(cut -d' ' -f1 /proc/loadavg)" '{
			printf "threads %d round %d (load %s): per epoch wall s bench %.2f torch %.2f (%.2fx), CPU s bench %.2f torch %.2f (%.2fx); peak MiB bench %d torch %d (%.2fx)\n",
				t, r, load, $1 / n, $4 / n, $1 / $4, $2 / n, $5 / n, $2 / $5, $3, $6, $3 / $6 }'
	done
done
