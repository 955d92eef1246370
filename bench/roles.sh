#!/usr/bin/env bash
# Token issuance with roles beside issuance without: refresh rotation (one access token and one
# ID token signed per request, the roles computed from the database each time) for a user with
# 0 roles, 10 roles and 200 roles in a ten-deep hierarchy, with the access token's size:
#   bench/roles.sh [DURATION_SECONDS] [CONNECTIONS]
# Builds the release binary (or takes $IRONGATE_BIN), starts it on a fresh SQLite database (or
# $IRONGATE_DATABASE_URL), drives it with wrk and prints a Markdown table. Nothing here is a
# test: numbers depend on the machine.
set -euo pipefail

DURATION=${1:-8}
CONNECTIONS=${2:-8}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
source "$ROOT/bench/lib.sh"
bench_setup
export IRONGATE_LOGIN_LIMIT_PER_IP=0 IRONGATE_LOGIN_LIMIT_PER_USER=0 RUST_LOG=warn

"$BIN" migrate
# Ten levels, each inheriting the one below (level-0 has posts:read), and 190 flat roles.
"$BIN" role create level-0 --permission posts:read >/dev/null
for i in $(seq 1 9); do "$BIN" role create "level-$i" --permission posts:write --inherits "level-$((i - 1))" >/dev/null; done
for i in $(seq -w 1 190); do "$BIN" role create "flat-$i" --permission users:read >/dev/null; done
for who in none ten many; do
  printf 'bench password 1' | "$BIN" user create --email "$who@example.com" --password-stdin >/dev/null
done
"$BIN" user add-role --email ten@example.com --role level-9 >/dev/null          # 10 effective roles
"$BIN" user add-role --email many@example.com --role level-9 >/dev/null
for i in $(seq -w 1 190); do "$BIN" user add-role --email many@example.com --role "flat-$i" >/dev/null; done
APP=$("$BIN" client create --name bench-app --grant-type password --grant-type refresh_token \
  --scope openid --scope roles --scope posts:read --scope posts:write --scope users:read)
APP_ID=$(field client_id <<<"$APP"); APP_SECRET=$(field client_secret <<<"$APP")
export BENCH_BASIC_APP=$(printf '%s:%s' "$APP_ID" "$APP_SECRET" | base64 -w0)

"$BIN" serve 2>"$WORK/server.log" &
SERVER=$!
for _ in $(seq 100); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.1; done
login() {
  curl -fs -u "$APP_ID:$APP_SECRET" -d grant_type=password -d "username=$1@example.com" \
    --data-urlencode 'password=bench password 1' \
    -d 'scope=openid roles posts:read posts:write users:read' "$BASE/token"
}
cpu_ticks() { awk '{print $14 + $15}' /proc/$SERVER/stat; }
TCK=$(getconf CLK_TCK)

echo
echo "irongate $(git -C "$ROOT" rev-parse --short HEAD), $(nproc) cores, refresh rotation, wrk -t$CONNECTIONS -c$CONNECTIONS -d${DURATION}s, database ${IRONGATE_DATABASE_URL%%:*}"
echo
echo "| user | effective roles | access token bytes | requests/s | server CPU-µs per request | vs 0 roles |"
echo "| --- | --- | --- | --- | --- | --- |"
BASE_RPS=
for who in none ten many; do
  FIRST=$(login "$who")
  ACCESS=$(field access_token <<<"$FIRST")
  ROLES=$(python3 -c "
import base64,json,sys
p=sys.argv[1].split('.')[1]; p+='='*(-len(p)%4)
print(len(json.loads(base64.urlsafe_b64decode(p)).get('roles',[])))" "$ACCESS")
  TOKENS=""
  for _ in $(seq "$CONNECTIONS"); do TOKENS+="$(login "$who" | field refresh_token) "; done
  export BENCH_REFRESH_TOKENS=$TOKENS
  before=$(cpu_ticks)
  out=$(wrk -t"$CONNECTIONS" -c"$CONNECTIONS" -d"${DURATION}s" -s "$BENCH/refresh.lua" "$BASE/token")
  after=$(cpu_ticks)
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  [ -n "$non2xx" ] && { echo "bench: $non2xx non-2xx answers for $who" >&2; exit 1; }
  us=$(python3 -c "print(round(1e6 * ($after - $before) / $TCK / max($requests, 1)))")
  BASE_RPS=${BASE_RPS:-$rps}
  ratio=$(python3 -c "print(f'{$rps / $BASE_RPS:.2f}×')")
  printf '| %s | %s | %s | %.0f | %s | %s |\n' "$who@" "$ROLES" "${#ACCESS}" "$rps" "$us" "$ratio"
done
