#!/usr/bin/env bash
# The sign-in burst of the security review (issue 10, finding 1), then the real user:
#   bench/login_burst.sh
# Builds the release binary (or takes $IRONGATE_BIN), starts it on a fresh SQLite database (or
# $IRONGATE_DATABASE_URL / $IRONGATE_REDIS_URL) trusting 127.0.0.1 as its proxy, and runs:
#   1. the review's burst: 20 requests from each of 20,200 addresses (20,000 IPv6 /64s of one
#      /48 and 200 IPv4), made-up usernames, 129-character passwords — default limits and table;
#   2. a burst that is counted: wrong 14-character passwords (each one hashed) from
#      $COUNTED_ADDRESSES IPv4 addresses (IPv6 ones of one /48 would stop at its limit),
#      $COUNTED_PER_ADDRESS each (past the per-IP limit of 20, so every address's counter is
#      full), with the limiter's table lowered to $TABLE_SIZE counters — more than the
#      addresses, far fewer than the 12,750 counters the burst creates — so that it overflows
#      many times within the run, as the default table (100,000) would against the review's
#      20,200 addresses after some 35,000 hashed attempts (about 12 minutes on this machine);
# and after each, the real user from a fresh address on the password grant and on the login
# page. Prints requests, addresses, statuses, the real user's answers and the server's RSS.
# Nothing here is a test: numbers depend on the machine.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
COUNTED_ADDRESSES=${COUNTED_ADDRESSES:-250}
COUNTED_PER_ADDRESS=${COUNTED_PER_ADDRESS:-25}
TABLE_SIZE=${TABLE_SIZE:-1000}
THREADS=2
source "$ROOT/bench/lib.sh"
bench_setup
export IRONGATE_TRUSTED_PROXIES=127.0.0.1/32 RUST_LOG=warn

"$BIN" migrate
APP=$("$BIN" client create --name burst-app --grant-type password --scope openid)
WEB=$("$BIN" client create --name burst-web --redirect-uri https://bench.test/cb --skip-consent --scope openid)
printf 'bench password 1' | "$BIN" user create --email real@example.com --password-stdin >/dev/null
APP_ID=$(field client_id <<<"$APP"); APP_SECRET=$(field client_secret <<<"$APP")
WEB_ID=$(field client_id <<<"$WEB")
export BENCH_BASIC_APP=$(printf '%s:%s' "$APP_ID" "$APP_SECRET" | base64 -w0)
export BURST_THREADS=$THREADS

start() {
  "$BIN" serve 2>>"$WORK/server.log" &
  SERVER=$!
  for _ in $(seq 100); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.1; done
}
stop() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; }

real_user() { # the real user from a fresh address: the password grant, then the login page
  local grant page login
  grant=$(curl -s -o /dev/null -w '%{http_code}' -u "$APP_ID:$APP_SECRET" -H 'X-Forwarded-For: 198.51.100.77' \
    -d grant_type=password -d username=real@example.com --data-urlencode 'password=bench password 1' "$BASE/token")
  local authz="/authorize?response_type=code&client_id=$WEB_ID&redirect_uri=https%3A%2F%2Fbench.test%2Fcb&scope=openid&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
  page=$(curl -fs -c "$WORK/jar" -H 'X-Forwarded-For: 198.51.100.78' "$BASE$authz")
  hidden() { python3 -c "import html,re,sys; print(html.unescape(re.search(r'name=\"$1\" value=\"([^\"]*)\"', sys.stdin.read()).group(1)))"; }
  login=$(curl -s -o /dev/null -w '%{http_code}' -b "$WORK/jar" -H 'X-Forwarded-For: 198.51.100.78' "$BASE/login" \
    --data-urlencode "csrf_token=$(hidden csrf_token <<<"$page")" \
    --data-urlencode "request=$(hidden request <<<"$page")" \
    --data-urlencode username=real@example.com --data-urlencode 'password=bench password 1')
  echo "the real user, from a fresh address: password grant $grant, login page $login (303 = signed in)"
}

burst() { # label addresses per_address password [offset: 20000 = IPv4 only]
  export BURST_ADDRESSES=$2 BURST_PER_ADDRESS=$3 BURST_PASSWORD=$4 BURST_OFFSET=${5:-0}
  local out lines
  export BURST_DONE_DIR=$WORK/done
  rm -rf "$BURST_DONE_DIR"; mkdir -p "$BURST_DONE_DIR"
  wrk -t$THREADS -c64 -d3600s -s "$BENCH/login_burst.lua" "$BASE/token" >"$WORK/wrk.out" &
  local wrk_pid=$!
  while kill -0 $wrk_pid 2>/dev/null && [ "$(ls "$BURST_DONE_DIR" | wc -l)" -lt $THREADS ]; do sleep 0.2; done
  kill -INT $wrk_pid 2>/dev/null || true
  wait $wrk_pid || true
  out=$(cat "$WORK/wrk.out")
  echo "$1: $(awk '/requests in/ {print $1, "requests in", $4}' <<<"$out") from $2 addresses ($(awk '/Requests\/sec/ {print $2}' <<<"$out") req/s)"
  grep '^status' <<<"$out" | sort | sed 's/^/  /'
  lines=$(grep -c 'rate limit' "$WORK/server.log" || true)
  echo "  rate-limit log lines so far: $lines"
}

echo "irongate $(git -C "$ROOT" rev-parse --short HEAD), $(nproc) cores, database ${IRONGATE_DATABASE_URL%%:*}${IRONGATE_REDIS_URL:+ + Redis}"
start
burst "1. the review's burst (129-character passwords, default limits and table)" 20200 20 "$(printf 'x%.0s' $(seq 129))"
real_user
echo "  RSS $(awk '/^VmRSS:/ {print int($2/1024)}' /proc/$SERVER/status) MB"
stop

export IRONGATE_LOGIN_LIMIT_TABLE_SIZE=$TABLE_SIZE
start
burst "2. a counted burst (hashed wrong passwords, table of $TABLE_SIZE counters)" "$COUNTED_ADDRESSES" "$COUNTED_PER_ADDRESS" "wrongpassword1" 20000
real_user
echo "  overflow warnings: $(grep -c 'table is full' "$WORK/server.log" || true)"
echo "  RSS $(awk '/^VmRSS:/ {print int($2/1024)}' /proc/$SERVER/status) MB"
stop
