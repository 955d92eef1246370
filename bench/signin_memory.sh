#!/usr/bin/env bash
# Resident memory around a burst of password sign-ins (issue 14): RSS idle, peak during
# $DURATION seconds (default 20) of password-grant sign-ins at 32 connections, and 6 s after;
# beside the sign-in rate.
#   DURATION=15 bench/signin_memory.sh [CONNECTIONS]
# Builds the release binary (or takes $IRONGATE_BIN); SQLite unless $IRONGATE_DATABASE_URL. Nothing
# here is a test.
set -euo pipefail
CONNECTIONS=${1:-32}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"
bench_setup
export IRONGATE_LOGIN_LIMIT_PER_IP=0 IRONGATE_LOGIN_LIMIT_PER_USER=0 IRONGATE_LOGIN_LIMIT_PER_USER_GLOBAL=0 RUST_LOG=warn
"$BIN" migrate
APP=$("$BIN" client create --name bench --grant-type password --scope openid)
printf 'bench password 1' | "$BIN" user create --email bench@example.com --password-stdin >/dev/null
export BENCH_BASIC_APP=$(printf '%s:%s' "$(field client_id <<<"$APP")" "$(field client_secret <<<"$APP")" | base64 -w0)
cat >"$WORK/signin.lua" <<'LUA'
function request()
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC_APP"),
  }, "grant_type=password&username=bench%40example.com&password=bench+password+1&scope=openid")
end
function response(status)
  if status ~= 200 then io.write("status " .. status .. "\n") end
end
LUA
"$BIN" serve 2>"$WORK/server.log" &
SERVER=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
sleep 1
rss() { awk "/^$1:/ {print int(\$2/1024)}" /proc/$SERVER/status; }
IDLE=$(rss VmRSS)
out=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION:-20}s" -s "$WORK/signin.lua" "http://127.0.0.1:$PORT/token")
PEAK=$(rss VmHWM)
sleep 6
AFTER=$(rss VmRSS)
rate=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
total=$(awk '/requests in/ {print $1}' <<<"$out")
bad=$(grep -c '^status' <<<"$out" || true)
echo "sign-ins: $total at $CONNECTIONS connections, $rate/s, $bad not 200; RSS idle $IDLE MB, peak $PEAK MB, 6 s after $AFTER MB"
