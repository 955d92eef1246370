#!/usr/bin/env bash
# irongate-verify's speed, side by side in one run:
#   - verifications per second on one core through the crate (`Verifier::verify`, a real access
#     token, keys cached) against raw RSA-2048 verifications per second (`openssl speed`) on the
#     same core: the goal is >= 80 % of raw;
#   - the posts example's `GET /users/me` throughput (wrk), the example pinned to one core.
#   bench/verify.sh [SECONDS] [CONNECTIONS]
# Builds the release binaries (irongate, the verify_bench and posts examples), starts irongate on
# a fresh SQLite database, and prints a Markdown table. Nothing here is a test.
set -euo pipefail

SECONDS_EACH=${1:-5}
CONNECTIONS=${2:-16}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"
cargo build --release --manifest-path "$ROOT/Cargo.toml" -p irongate-verify \
  --example verify_bench --example posts >&2
EXAMPLES=$ROOT/target/release/examples
bench_setup
export RUST_LOG=warn
"$BIN" migrate
"$BIN" role create writer --permission posts:write >/dev/null
printf 'bench password 1' | "$BIN" user create --email bench@example.com --role writer --password-stdin >/dev/null
APP=$("$BIN" client create --name bench --grant-type password --scope openid --scope posts:write)
"$BIN" serve 2>"$WORK/server.log" &
SERVER=$!
for _ in $(seq 100); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.1; done
ACCESS=$(curl -fs -u "$(field client_id <<<"$APP"):$(field client_secret <<<"$APP")" \
  -d grant_type=password -d username=bench@example.com --data-urlencode 'password=bench password 1' \
  -d 'scope=openid posts:write' "$BASE/token" | field access_token)

PIN0="taskset -c 0" PIN1="taskset -c 1"
[ "$(nproc)" -ge 2 ] || { PIN0=""; PIN1=""; }
CRATE=$($PIN0 "$EXAMPLES/verify_bench" --issuer "$BASE" --audience "$BASE" --token "$ACCESS" \
  --seconds "$SECONDS_EACH")
RAW=$($PIN0 openssl speed -seconds "$SECONDS_EACH" rsa2048 2>/dev/null \
  | awk '/^rsa 2048 bits/ {print $NF}')

POSTS_PORT=$(free_port)
$PIN0 "$EXAMPLES/posts" --issuer "$BASE" --audience "$BASE" --bind "127.0.0.1:$POSTS_PORT" >/dev/null 2>&1 &
POSTS=$!
trap 'kill $SERVER $POSTS 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do curl -s "http://127.0.0.1:$POSTS_PORT/users/me" >/dev/null && break; sleep 0.1; done
curl -fs -H "Authorization: Bearer $ACCESS" "http://127.0.0.1:$POSTS_PORT/users/me" >/dev/null \
  || { echo "bench: the posts example refused the token" >&2; exit 1; }
cat >"$WORK/me.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $ACCESS"
LUA
ME=$($PIN1 wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_EACH}s" -s "$WORK/me.lua" \
  "http://127.0.0.1:$POSTS_PORT/users/me" | awk '/Requests\/sec/ {print $2}')

python3 - "$CRATE" "$RAW" "$ME" <<'PY'
import sys
crate, raw, me = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print("| figure (one core) | per second |")
print("| --- | --- |")
print(f"| RSA-2048 verifications, raw (`openssl speed`) | {raw:,.0f} |")
print(f"| access tokens verified through irongate-verify | {crate:,.0f} ({crate / raw:.0%} of raw) |")
print(f"| posts example `GET /users/me` (wrk, over HTTP) | {me:,.0f} |")
PY
