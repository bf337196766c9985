#!/usr/bin/env bash
# Batch scoring speed on 1,000,000 rows (the dataset repeated): hitcast against LightGBM on a
# classifier of the same shape, on 1 and 2 threads, medians of RUNS runs after a warm-up. Run it
# alone: a build beside it skews every figure.
#   bench/predict.sh [DATA] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-${HITCAST_DATA:-data/spotify_tracks.csv.gz}}
runs=${2:-5}
rows=1000000
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet -p hitcast-cli
hitcast=./target/release/hitcast

# The default model (gbm classifier and gbm score regressor), and a 1M-row plain CSV.
$hitcast -q train --data "$data" --out "$work/model.hitcast" >/dev/null
gzip -dc -f "$data" | awk -v n=$rows 'NR == 1 { header = $0; print; next }
    { rows[++k] = $0 } END { for (i = 0; i < n; i++) print rows[i % k + 1] }' > "$work/1m.csv"
# (The awk loop repeats data lines; the dataset has no line breaks inside quoted fields.)

$hitcast bench predict --data "$data" --model "$work/model.hitcast" --rows $rows --runs "$runs"
trees=$($hitcast model info --json "$work/model.hitcast" | python3 -c \
    'import json, sys; print(json.load(sys.stdin)["classifier_rounds"])')

echo
echo "  hitcast predict, CSV file to CSV file (read, validate, features, both models, write):"
for threads in 1 2; do
    times=()
    for _ in $(seq "$runs"); do
        start=$(date +%s.%N)
        RAYON_NUM_THREADS=$threads $hitcast -q predict --model "$work/model.hitcast" \
            --input "$work/1m.csv" --output "$work/out.csv"
        times+=("$(echo "$(date +%s.%N) - $start" | bc)")
    done
    median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    printf '    %d thread(s): %s rows/s (median %.2f s)\n' "$threads" \
        "$(echo "$rows / $median" | bc)" "$median"
done

echo
if python3 -c 'import lightgbm, pandas' 2>/dev/null; then
    version=$(python3 -c 'import lightgbm; print(lightgbm.__version__)')
    python3 bench/predict_lightgbm.py "$data" "$work/1m.csv" $rows "$trees" "$runs" | while read -r name a b c; do
        case $name in
            model) echo "  LightGBM $version classifier of the same shape: $a trees, $b leaves each on average, $c columns" ;;
            lightgbm_1) echo "    LightGBM predict alone, 1 thread:  $a rows/s" ;;
            lightgbm_2) echo "    LightGBM predict alone, 2 threads: $a rows/s" ;;
            pandas_lightgbm_csv) echo "    pandas read_csv + features + LightGBM predict, 2 threads: $a rows/s" ;;
        esac
    done
else
    echo "  lightgbm/pandas are not installed (pip install lightgbm pandas) - no reference figure"
fi
