#!/usr/bin/env bash
# Throughput and latency of the token lifecycle, measured side by side in one run:
#   bench/run.sh [DURATION_SECONDS] [CONNECTIONS]
# Builds the release binary (or takes $IRONGATE_BIN), starts it on a fresh SQLite database (or on $IRONGATE_DATABASE_URL
# / $IRONGATE_REDIS_URL when set), drives it with wrk (Debian package `wrk`) and prints a
# Markdown table beside this machine's RSA-2048 signing ceiling (`openssl speed rsa2048`, one
# core). Nothing here is a test: numbers depend on the machine.
set -euo pipefail

DURATION=${1:-10}
CONNECTIONS=${2:-16}
THREADS=2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
command -v wrk >/dev/null || { echo "bench: wrk is required (apt-get install wrk)" >&2; exit 1; }

# IRONGATE_BIN=path runs a binary built elsewhere (another commit, for a side-by-side
# comparison); BENCH_LABEL names it in the report.
if [ -n "${IRONGATE_BIN:-}" ]; then
  BIN=$IRONGATE_BIN
else
  cargo build --release --manifest-path "$ROOT/Cargo.toml" >&2
  BIN=$ROOT/target/release/irongate
fi
LABEL=${BENCH_LABEL:-$(git -C "$ROOT" rev-parse --short HEAD)}
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
cd "$WORK"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export IRONGATE_ISSUER=http://127.0.0.1:$PORT IRONGATE_BIND=127.0.0.1:$PORT
export IRONGATE_DATABASE_URL=${IRONGATE_DATABASE_URL:-sqlite://$WORK/irongate.db}
export IRONGATE_LOGIN_LIMIT_PER_IP=0 IRONGATE_LOGIN_LIMIT_PER_USER=0 RUST_LOG=warn
BASE=$IRONGATE_ISSUER

"$BIN" migrate
SERVICE=$("$BIN" client create --name bench-service --grant-type client_credentials --scope users:read)
APP=$("$BIN" client create --name bench-app --grant-type password --grant-type refresh_token \
  --scope openid --scope email --scope profile)
WEB=$("$BIN" client create --name bench-web --redirect-uri https://bench.test/cb --skip-consent \
  --scope openid)
printf 'bench password 1' | "$BIN" user create --email bench@example.com --name Bench --password-stdin >/dev/null
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
SERVICE_ID=$(field client_id <<<"$SERVICE"); SERVICE_SECRET=$(field client_secret <<<"$SERVICE")
APP_ID=$(field client_id <<<"$APP"); APP_SECRET=$(field client_secret <<<"$APP")
WEB_ID=$(field client_id <<<"$WEB")

"$BIN" serve 2>"$WORK/server.log" &
SERVER=$!
for _ in $(seq 100); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.1; done
rss() { awk "/^$1:/ {print int(\$2/1024)}" /proc/$SERVER/status; }
IDLE_RSS=$(rss VmRSS)

login() {
  curl -fs -u "$APP_ID:$APP_SECRET" -d grant_type=password -d username=bench@example.com \
    --data-urlencode 'password=bench password 1' -d 'scope=openid email profile' "$BASE/token"
}
LOGIN=$(login)
ACCESS=$(field access_token <<<"$LOGIN")
# One refresh-token chain per connection: each rotation's new token feeds the next request.
REFRESH_TOKENS=""
for _ in $(seq "$CONNECTIONS"); do REFRESH_TOKENS+="$(login | field refresh_token) "; done

# A browser session: the login page, then the login form, with a cookie jar.
AUTHZ="/authorize?response_type=code&client_id=$WEB_ID&redirect_uri=https%3A%2F%2Fbench.test%2Fcb&scope=openid&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
PAGE=$(curl -fs -c "$WORK/jar" "$BASE$AUTHZ")
hidden() { python3 -c "import html,re,sys; print(html.unescape(re.search(r'name=\"$1\" value=\"([^\"]*)\"', sys.stdin.read()).group(1)))"; }
curl -s -o /dev/null -b "$WORK/jar" -c "$WORK/jar" "$BASE/login" \
  --data-urlencode "csrf_token=$(hidden csrf_token <<<"$PAGE")" \
  --data-urlencode "request=$(hidden request <<<"$PAGE")" \
  --data-urlencode username=bench@example.com --data-urlencode 'password=bench password 1'
export BENCH_SESSION=$(awk '$6 == "irongate_session" {print $7}' "$WORK/jar")

export BENCH_BASIC_SERVICE=$(printf '%s:%s' "$SERVICE_ID" "$SERVICE_SECRET" | base64 -w0)
export BENCH_BASIC_APP=$(printf '%s:%s' "$APP_ID" "$APP_SECRET" | base64 -w0)
export BENCH_ACCESS=$ACCESS BENCH_REFRESH_TOKENS=$REFRESH_TOKENS

cpu_ticks() { awk '{print $14 + $15}' /proc/$SERVER/stat; }
TCK=$(getconf CLK_TCK)
run() { # name script path [threads]
  local out before after
  before=$(cpu_ticks)
  out=$(wrk -t"${4:-$THREADS}" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$BENCH/$2" "$BASE$3")
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  after=$(cpu_ticks)
  local requests per_cpu
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  # Requests per second of CPU time the server itself used (wrk runs on the same cores).
  per_cpu=$(python3 -c "print(round($requests / max(($after - $before) / $TCK, 0.001)))")
  printf '| %s | %.0f | %s | %s | %s | %s |\n' "$1" "$rps" "$per_cpu" "$p50" "$p99" "${non2xx:-0}"
  echo "$per_cpu" >"$WORK/cpu-$2"
  echo "$rps" >"$WORK/rps-$2"
}

CEILING=$(openssl speed -seconds 3 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6}')
echo
echo "irongate $LABEL, $(nproc) cores, wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, database ${IRONGATE_DATABASE_URL%%:*}${IRONGATE_REDIS_URL:+ + Redis}"
echo
echo "| endpoint | requests/s | per server CPU-second | p50 | p99 | non-2xx |"
echo "| --- | --- | --- | --- | --- | --- |"
run "client_credentials (POST /token)" client_credentials.lua /token
run "refresh rotation (POST /token)" refresh.lua /token "$CONNECTIONS"
run "introspection (POST /introspect)" introspect.lua /introspect
run "userinfo (GET /userinfo)" userinfo.lua /userinfo
run "JWKS (GET /.well-known/jwks.json)" jwks.lua /.well-known/jwks.json
run "code issuance (GET /authorize, signed in; 302)" authorize.lua "$AUTHZ"
run "login page (GET /authorize, no cookie)" login_page.lua "$AUTHZ"
PEAK_RSS=$(rss VmHWM)
CC=$(cat "$WORK/rps-client_credentials.lua")
CC_CPU=$(cat "$WORK/cpu-client_credentials.lua")
echo
echo "RSA-2048 signing ceiling (openssl speed, one core): ${CEILING} signatures/s"
python3 - "$CC" "$CEILING" "$(nproc)" "$CC_CPU" <<'PY'
import sys
cc, ceiling, cores, per_cpu = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
print(f"client_credentials: {cc/cores:.0f}/s per core of the machine = {100*cc/cores/ceiling:.0f}% "
      f"of the ceiling (wrk shares the same {cores} cores); {per_cpu:.0f} per second of server "
      f"CPU = {100*per_cpu/ceiling:.0f}% of the ceiling")
PY
# SEC-56: unknown email against wrong password, interleaved one at a time.
python3 "$BENCH/enumeration.py" "$BASE" "$APP_ID" "$APP_SECRET" bench@example.com 300
echo "RSS: idle ${IDLE_RSS} MB, peak ${PEAK_RSS} MB"
