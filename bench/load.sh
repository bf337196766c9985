#!/usr/bin/env bash
# Load + validate + collapse of the full dataset: hitcast against pandas, side by side, medians
# of RUNS runs each after one warm-up. Run it alone: a build beside it skews every figure.
#   bench/load.sh [DATA] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-${HITCAST_DATA:-data/spotify_tracks.csv.gz}}
runs=${2:-11}
cargo build --release --quiet -p hitcast-cli
./target/release/hitcast bench load --data "$data" --runs "$runs"
echo
if python3 -c 'import pandas' 2>/dev/null; then
    version=$(python3 -c 'import pandas; print(pandas.__version__)')
    python3 bench/load_pandas.py "$data" "$runs" | {
        read -r median min max
        printf '  %-28s%8sms%8sms%8sms\n' "pandas $version read_csv" "$median" "$min" "$max"
        read -r median min max
        printf '  %-28s%8sms%8sms%8sms\n' "pandas $version total" "$median" "$min" "$max"
    }
else
    echo "  pandas is not installed (pip install pandas) - no reference figure"
fi
