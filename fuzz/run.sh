#!/usr/bin/env bash
# Runs each fuzz target for SECONDS (default 600) with libFuzzer through cargo fuzz, on the
# stable toolchain (`--sanitizer none`: safe Rust needs no AddressSanitizer to find panics).
#   fuzz/run.sh [SECONDS] [TARGET ...]
# New inputs go to fuzz/work/TARGET (not committed); the seeds in fuzz/corpus/TARGET stay as
# they are. A crash is saved under fuzz/artifacts/TARGET and fails the script.
# Needs: cargo install cargo-fuzz.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(csv_record artifact api_request audio_file)

# The model loader's seed: a small real model, when a release hitcast and the data are at hand
# (a model file is 120 KB: generated, not committed).
if [ ! -e work/artifact/logreg.hitcast ] && [ -x ../target/release/hitcast ]; then
    mkdir -p work/artifact
    ../target/release/hitcast -q train --data "${HITCAST_DATA:-../data/spotify_tracks.csv.gz}" \
        --model logreg --regressor linear --strategy undersample --setup raw \
        --out work/artifact/logreg.hitcast >/dev/null 2>&1 \
        || echo "note: no model seed (hitcast train failed); the loader starts from its frame seeds"
fi

summary='^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::new_units_added|stat::peak_rss_mb|INFO: Seed|.*panicked|.*SUMMARY|.*Test unit written)'
for target in "${targets[@]}"; do
    mkdir -p "work/$target"
    log="work/$target.log"
    echo "== $target for ${seconds}s"
    # A build failure, a crash or a timeout makes cargo fuzz exit non-zero: so does this script.
    if ! cargo fuzz run --sanitizer none "$target" "work/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=4096 -print_final_stats=1 >"$log" 2>&1; then
        grep -E "$summary" "$log" || tail -20 "$log"
        echo "$target: failed; the log is fuzz/$log, a crash input under fuzz/artifacts/$target" >&2
        exit 1
    fi
    grep -E "$summary" "$log" || true
done
