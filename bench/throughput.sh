#!/usr/bin/env bash
# Server throughput at 32 connections: GET /healthz (HTTP, the middleware and the client, without
# the model) against POST /api/v1/predict with one track a request, in the same run, alternating,
# median of RUNS rounds. Needs wrk (Debian: apt install wrk). Run it alone: wrk shares the
# machine with the server, and a build beside it skews every figure.
#   bench/throughput.sh [MODEL] [SECONDS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "needs wrk: apt install wrk" >&2; exit 1; }
seconds=${2:-6}
runs=${3:-3}
work=$(mktemp -d)
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
cargo build --release --quiet -p hitcast-cli
hitcast=./target/release/hitcast
model=${1:-}
if [ -z "$model" ]; then
    model="$work/model.hitcast"
    $hitcast -q train --out "$model" >/dev/null
fi
cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"track_id":"5SuOikwiRyPMVoIQDJUgSV","artists":"Gen Hoshino","album_name":"Comedy","track_name":"Comedy","duration_ms":230666,"explicit":false,"danceability":0.676,"energy":0.461,"key":1,"loudness":-6.746,"mode":0,"speechiness":0.143,"acousticness":0.0322,"instrumentalness":0.00000101,"liveness":0.358,"valence":0.715,"tempo":87.917,"time_signature":4,"track_genre":"acoustic"}'
LUA
$hitcast serve --model "$model" --addr 127.0.0.1:0 > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 50); do
    addr=$(grep -o 'http://[0-9.:]*' "$work/serve.log" || true)
    [ -n "$addr" ] && break
    sleep 0.1
done
rate() { wrk -t2 -c32 -d"${seconds}s" "$@" | awk '/Requests\/sec/ {print $2}'; }
rate "$addr/healthz" >/dev/null  # warm-up
echo "round  healthz req/s  predict req/s  ratio"
for round in $(seq "$runs"); do
    h=$(rate "$addr/healthz")
    p=$(rate -s "$work/post.lua" "$addr/api/v1/predict")
    echo "$round $h $p" | awk '{printf "%5d  %13.0f  %13.0f  %5.2f\n", $1, $2, $3, $3 / $2}'
done | tee "$work/rounds"
sort -k4 -n "$work/rounds" | awk -v n="$runs" 'NR == int((n + 1) / 2) {printf "median ratio %.2f (round %d)\n", $4, $1}'
