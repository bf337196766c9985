#!/usr/bin/env bash
# Web server load: `hitcast serve` start-up to its first answer (median of 5 starts), then single
# predictions at increasing rates over 4 keep-alive connections on loopback, with GET /healthz
# as the floor. Run it alone: the load generator shares the machine with the server, and a
# build beside it skews every figure.
#   bench/serve.sh [DATA] [SECONDS_PER_RATE]
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-${HITCAST_DATA:-data/spotify_tracks.csv.gz}}
seconds=${2:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet -p hitcast-cli
hitcast=./target/release/hitcast
$hitcast -q train --data "$data" --out "$work/model.hitcast" >/dev/null
$hitcast bench serve --data "$data" --model "$work/model.hitcast" --seconds "$seconds" --floor
