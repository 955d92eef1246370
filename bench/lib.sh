# Shared set-up of the bench scripts, sourced after ROOT is set: checks for wrk, takes the
# binary ($IRONGATE_BIN, or a fresh release build), makes a work directory that is removed at
# exit together with the server ($SERVER), picks a free port and exports the IRONGATE_*
# variables for it (a fresh SQLite database unless $IRONGATE_DATABASE_URL is set).
bench_setup() {
  command -v wrk >/dev/null || { echo "bench: wrk is required (apt-get install wrk)" >&2; exit 1; }
  if [ -n "${IRONGATE_BIN:-}" ]; then
    BIN=$IRONGATE_BIN
  else
    cargo build --release --manifest-path "$ROOT/Cargo.toml" >&2
    BIN=$ROOT/target/release/irongate
  fi
  WORK=$(mktemp -d)
  SERVER=
  trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
  cd "$WORK"
  PORT=$(free_port)
  export IRONGATE_ISSUER=http://127.0.0.1:$PORT IRONGATE_BIND=127.0.0.1:$PORT
  export IRONGATE_DATABASE_URL=${IRONGATE_DATABASE_URL:-sqlite://$WORK/irongate.db}
  BASE=$IRONGATE_ISSUER
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# field NAME: the member NAME of the JSON object on standard input.
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
