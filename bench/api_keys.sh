#!/usr/bin/env bash
# API keys beside JWTs, side by side in one run:
#   - introspection (POST /introspect, one confidential client) of an API key vs of a JWT access
#     token: the key path (checksum, SHA-256, one read of the key, its user and their effective
#     access) against the JWT path (an RS256 verification and the user's status);
#   - RFC 8693 token exchange (an API key for an access token) beside client_credentials: both
#     one RSA signature per request.
#   bench/api_keys.sh [DURATION_SECONDS] [CONNECTIONS]
# Builds the release binary (or takes $IRONGATE_BIN), starts it pinned to CPU 0 with wrk on CPU 1
# (on a 2-core machine), on a fresh SQLite database (or $IRONGATE_DATABASE_URL), and prints a
# Markdown table with the server's CPU time per request. Nothing here is a test.
set -euo pipefail

DURATION=${1:-8}
CONNECTIONS=${2:-16}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"
bench_setup
export IRONGATE_LOGIN_LIMIT_PER_IP=0 IRONGATE_LOGIN_LIMIT_PER_USER=0 RUST_LOG=warn

"$BIN" migrate
"$BIN" role create editor --permission posts:read --permission posts:write >/dev/null
printf 'bench password 1' | "$BIN" user create --email bench@example.com --role editor --password-stdin >/dev/null
APP=$("$BIN" client create --name bench-app --grant-type password --scope openid --scope posts:read)
SERVICE=$("$BIN" client create --name bench-service --grant-type client_credentials --scope posts:read)
EXCHANGER=$("$BIN" client create --name bench-exchange \
  --grant-type urn:ietf:params:oauth:grant-type:token-exchange --scope posts:read)
KEY=$("$BIN" api-key create --email bench@example.com --name bench --scope posts:read | field key)
basic() { printf '%s:%s' "$(field client_id <<<"$1")" "$(field client_secret <<<"$1")" | base64 -w0; }
export BENCH_BASIC_APP=$(basic "$APP") BENCH_BASIC_SERVICE=$(basic "$SERVICE")
BASIC_EXCHANGER=$(basic "$EXCHANGER")

PIN_SERVER="taskset -c 0" PIN_WRK="taskset -c 1"
[ "$(nproc)" -ge 2 ] || { PIN_SERVER=""; PIN_WRK=""; }
$PIN_SERVER "$BIN" serve 2>"$WORK/server.log" &
SERVER=$!
for _ in $(seq 100); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.1; done
APP_ID=$(field client_id <<<"$APP"); APP_SECRET=$(field client_secret <<<"$APP")
ACCESS=$(curl -fs -u "$APP_ID:$APP_SECRET" -d grant_type=password -d username=bench@example.com \
  --data-urlencode 'password=bench password 1' -d 'scope=openid posts:read' "$BASE/token" | field access_token)

post_script() { # file auth body
  cat >"$1" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $2"
wrk.body = "$3"
LUA
}
post_script "$WORK/intro_key.lua" "$BENCH_BASIC_APP" "token=$KEY"
post_script "$WORK/intro_jwt.lua" "$BENCH_BASIC_APP" "token=$ACCESS"
post_script "$WORK/cc.lua" "$BENCH_BASIC_SERVICE" "grant_type=client_credentials"
post_script "$WORK/exchange.lua" "$BASIC_EXCHANGER" \
  "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=$KEY&subject_token_type=urn%3Airongate%3Aparams%3Aoauth%3Atoken-type%3Aapi_key"
for f in intro_key intro_jwt; do
  curl -fs -u "$APP_ID:$APP_SECRET" -d "$(sed -n 's/^wrk.body = "\(.*\)"$/\1/p' "$WORK/$f.lua")" "$BASE/introspect" | grep -q '"active":true' \
    || { echo "bench: $f is not active" >&2; exit 1; }
done

cpu_ticks() { awk '{print $14 + $15}' /proc/$SERVER/stat; }
TCK=$(getconf CLK_TCK)
declare -A RPS CPU
run() { # name script path
  $PIN_WRK wrk -t2 -c"$CONNECTIONS" -d2s -s "$2" "$BASE$3" >/dev/null
  local before after out n
  before=$(cpu_ticks)
  out=$($PIN_WRK wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s "$2" "$BASE$3")
  after=$(cpu_ticks)
  if grep -q "Non-2xx" <<<"$out"; then echo "bench: $1 had errors" >&2; grep "Non-2xx" <<<"$out" >&2; exit 1; fi
  n=$(awk '/requests in/ {print $1}' <<<"$out")
  RPS[$1]=$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out")
  CPU[$1]=$(python3 -c "print(round(($after - $before) / $TCK * 1e6 / $n, 1))")
}
run intro_jwt "$WORK/intro_jwt.lua" /introspect
run intro_key "$WORK/intro_key.lua" /introspect
run cc "$WORK/cc.lua" /token
run exchange "$WORK/exchange.lua" /token

echo
echo "irongate $(git -C "$ROOT" rev-parse --short HEAD), $(nproc) cores (server pinned to one), wrk -t2 -c$CONNECTIONS -d${DURATION}s, database ${IRONGATE_DATABASE_URL%%:*}"
echo
echo "| request | requests/s | server CPU-µs per request | ratio |"
echo "| --- | --- | --- | --- |"
ratio() { python3 -c "print(f'{$1 / $2:.2f}×')"; }
echo "| introspection of a JWT access token | ${RPS[intro_jwt]} | ${CPU[intro_jwt]} | 1.00× |"
echo "| introspection of an API key | ${RPS[intro_key]} | ${CPU[intro_key]} | $(ratio "${CPU[intro_key]}" "${CPU[intro_jwt]}") of the JWT's CPU |"
echo "| client_credentials | ${RPS[cc]} | ${CPU[cc]} | 1.00× |"
echo "| token exchange (API key → access token) | ${RPS[exchange]} | ${CPU[exchange]} | $(ratio "${CPU[exchange]}" "${CPU[cc]}") of client_credentials' CPU |"
