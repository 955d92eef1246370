#!/usr/bin/env bash
# How close the token endpoint comes to the physical limit, measured side by side on
# one pinned core (server on CPU 1, wrk on CPU 0, as in ../shared/perf):
#   - `openssl speed rsa2048` signatures per second (the harness's "ceiling");
#   - examples/sign_ceiling.rs: the least an HTTP server can do per token (one RS256 signature
#     with aws-lc, HTTP over loopback TCP, nothing else): the practical ceiling;
#   - irongate's client_credentials grant, with its metrics listener on (the signing histogram
#     gives the share of the signing ceiling reached in the same seconds as the load);
#   - irongate's refresh grant with rotation (two signatures per request: access and ID token),
#     read the same way, on the same server right after.
# ROUNDS times each, interleaved, so that the machine's drift touches them all alike.
#   ROUNDS=3 DURATION=10 bench/ceiling.sh
# Builds the release binaries (or takes $IRONGATE_BIN and $CEILING_BIN). Nothing here is a test.
set -euo pipefail
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"
bench_setup
if [ -z "${CEILING_BIN:-}" ]; then
  cargo build --release --example sign_ceiling --manifest-path "$ROOT/Cargo.toml" >&2
  CEILING_BIN=$ROOT/target/release/examples/sign_ceiling
fi
export RUST_LOG=warn IRONGATE_LOGIN_LIMIT_PER_IP=0 IRONGATE_LOGIN_LIMIT_PER_USER=0
"$BIN" migrate >/dev/null
SERVICE=$("$BIN" client create --name bench-service --grant-type client_credentials --scope users:read)
export BENCH_BASIC_SERVICE=$(printf '%s:%s' "$(field client_id <<<"$SERVICE")" "$(field client_secret <<<"$SERVICE")" | base64 -w0)
APP=$("$BIN" client create --name bench-app --grant-type password --grant-type refresh_token \
  --scope openid --scope email --scope profile)
APP_CREDENTIALS="$(field client_id <<<"$APP"):$(field client_secret <<<"$APP")"
export BENCH_BASIC_APP=$(printf '%s' "$APP_CREDENTIALS" | base64 -w0)
printf 'bench password 1' | "$BIN" user create --email bench@example.com --name Bench --password-stdin >/dev/null

# start NAME CMD...: runs CMD pinned to CPU 1 until it answers, leaves its pid in $SERVER
start() {
  taskset -c 1 "$@" 2>>"$WORK/server.log" &
  SERVER=$!
  for _ in $(seq 100); do curl -s -o /dev/null -X POST "http://127.0.0.1:$PORT/token" && return; sleep 0.1; done
  echo "bench: $1 did not start" >&2; exit 1
}
stop() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=; }
ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
# signing: "count sum" of irongate's irongate_token_signing_seconds (0 0 for the probe)
METRICS_PORT=$(free_port)
signing() {
  curl -s "http://127.0.0.1:$METRICS_PORT/metrics" 2>/dev/null |
    awk '/^irongate_token_signing_seconds_count/ {c=$2} /^irongate_token_signing_seconds_sum/ {s=$2} END {printf "%d %.9f\n", c, s}'
}
# refresh_tokens: one fresh refresh token per connection (32), from password sign-ins; exits
# when any sign-in failed (inside $(...) set -e does not stop the loop, so they are counted)
refresh_tokens() {
  local tokens
  tokens=$(for _ in $(seq 32); do
    curl -fs -u "$APP_CREDENTIALS" -d grant_type=password -d username=bench@example.com \
      --data-urlencode 'password=bench password 1' -d 'scope=openid email profile' \
      "http://127.0.0.1:$PORT/token" | field refresh_token
  done)
  if [ "$(wc -w <<<"$tokens")" -ne 32 ]; then
    echo "bench: a password sign-in failed; no refresh token for every connection" >&2
    exit 1
  fi
  tr '\n' ' ' <<<"$tokens"
}
# load [refresh]: prints "req/s CPU-µs-per-request mean-signature-µs" of the running server
# under client_credentials, or under refresh with rotation (the last figure is 0 for the probe,
# which has no metrics)
load() {
  local script=client_credentials.lua threads=1
  # each wrk run follows chains of its own: a spent token presented again revokes its family
  fresh() { :; }
  if [ "${1:-}" = refresh ]; then
    script=refresh.lua threads=32
    fresh() { BENCH_REFRESH_TOKENS=$(refresh_tokens); export BENCH_REFRESH_TOKENS; }
  fi
  fresh
  taskset -c 0 wrk -t"$threads" -c32 -d3s -s "$ROOT/bench/$script" "http://127.0.0.1:$PORT/token" >/dev/null
  fresh
  local t0 t1 out rps c0 s0 c1 s1
  read -r c0 s0 < <(signing)
  t0=$(ticks)
  out=$(taskset -c 0 wrk -t"$threads" -c32 -d"${DURATION}s" -s "$ROOT/bench/$script" "http://127.0.0.1:$PORT/token")
  t1=$(ticks)
  read -r c1 s1 < <(signing)
  if grep -q "Non-2xx\|Socket errors" <<<"$out"; then echo "bench: errors: $out" >&2; exit 1; fi
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  awk -v r="$rps" -v a="$t0" -v b="$t1" -v t="$(getconf CLK_TCK)" -v d="$DURATION" \
    -v c0="$c0" -v c1="$c1" -v s0="$s0" -v s1="$s1" \
    'BEGIN {printf "%.0f %.1f %.1f\n", r, (b - a) / t * 1e6 / (r * d), (c1 > c0 ? (s1 - s0) / (c1 - c0) * 1e6 : 0)}'
}

# The "own signing ceiling" columns need no other measurement: irongate times its own
# signatures (irongate_token_signing_seconds), so "irongate req/s × signatures per request × its
# mean signature time" is its share of the signing ceiling in the very seconds of the load,
# whatever the core's speed did (an upper bound, by little: the timing is wall-clock, and a
# signature preempted by another thread counts the wait). Refresh signs twice per request
# (access and ID token); its "÷ openssl" is likewise req/s × 2 ÷ openssl's signatures/s, as in
# ../shared/perf.
printf '| round | openssl sign/s | probe req/s | irongate req/s | irongate / openssl | irongate / probe | probe / openssl | CPU µs/req probe, irongate | irongate mean signature µs | irongate / its own signing ceiling | refresh req/s | refresh × 2 / openssl | refresh mean signature µs | refresh / its own signing ceiling |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
for round in $(seq "$ROUNDS"); do
  sign=$(taskset -c 1 openssl speed -seconds 3 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6}')
  start "$CEILING_BIN" "127.0.0.1:$PORT"
  read -r probe probe_cpu _ < <(load)
  stop
  IRONGATE_METRICS_BIND=127.0.0.1:$METRICS_PORT start "$BIN" serve
  read -r iron iron_cpu iron_sig < <(load)
  read -r refresh _ refresh_sig < <(load refresh)
  stop
  awk -v r="$round" -v s="$sign" -v p="$probe" -v i="$iron" -v pc="$probe_cpu" -v ic="$iron_cpu" -v is="$iron_sig" \
    -v f="$refresh" -v fs="$refresh_sig" \
    'BEGIN {printf "| %d | %.0f | %.0f | %.0f | %.3f | %.3f | %.3f | %s, %s | %s | %.3f | %.0f | %.3f | %s | %.3f |\n", r, s, p, i, i / s, i / p, p / s, pc, ic, is, i * is / 1e6, f, f * 2 / s, fs, f * 2 * fs / 1e6}'
done
