#!/usr/bin/env python3
"""REL-02 fault script: a node under light load while its PostgreSQL restarts.

    python3 bench/db_restart.py [--bin PATH] [--threads 8] [--down 10] [--total 30]

Runs a PostgreSQL cluster of its own (initdb on a spare port, as the `postgres` user; needs root
and Debian's PostgreSQL server binaries), starts irongate on it, and has THREADS connections
introspect a refresh token (a database read per request) for TOTAL seconds. Five seconds in, the
cluster stops (`pg_ctl stop -m fast`) for DOWN seconds, then starts again. Prints the statuses
per second, how long after the restart the node answered 200 again, and how many log lines it
wrote. Nothing here is a test: it measures. Traffic goes to 127.0.0.1 only, bounded in time.
"""

import argparse
import collections
import glob
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

from faultlib import call, free_port, release_binary



def as_postgres(*args):
    subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", default=os.environ.get("IRONGATE_BIN"))
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--down", type=int, default=10)
    p.add_argument("--total", type=int, default=30)
    args = p.parse_args()
    binary = release_binary(args.bin)
    pg_bin = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]

    work = tempfile.mkdtemp()
    shutil.chown(work, "postgres")
    data = os.path.join(work, "pg")
    pg_port, port = free_port(), free_port()
    as_postgres(f"{pg_bin}/initdb", "-D", data, "-A", "trust", "-U", "postgres")
    pg_opts = f"-p {pg_port} -k {work} -c listen_addresses=127.0.0.1"
    pg_log = os.path.join(work, "pg.log")

    def pg(action):
        extra = ["-m", "fast"] if action == "stop" else ["-o", pg_opts, "-l", pg_log]
        as_postgres(f"{pg_bin}/pg_ctl", "-D", data, *extra, "-w", action)

    pg("start")
    try:
        run(args, binary, work, pg, pg_port, port)
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", f"{pg_bin}/pg_ctl", "-D", data, "-m",
                        "immediate", "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


def run(args, binary, work, pg, pg_port, port):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRONGATE_")}
    base = f"http://127.0.0.1:{port}"
    env.update({
        "IRONGATE_ISSUER": base, "IRONGATE_BIND": f"127.0.0.1:{port}",
        "IRONGATE_DATABASE_URL": f"postgres://postgres@127.0.0.1:{pg_port}/postgres?sslmode=disable",
        "IRONGATE_KEYS_DIR": os.path.join(work, "keys"), "RUST_LOG": "warn",
    })
    cli = lambda *a, stdin=None: subprocess.run([binary, *a], env=env, cwd=work, input=stdin,
                                                capture_output=True, text=True, check=True).stdout
    client = json.loads(cli("client", "create", "--name", "fault", "--grant-type", "password",
                            "--grant-type", "refresh_token", "--scope", "openid"))
    cli("user", "create", "--email", "fault@example.com", "--password-stdin",
        stdin="violet harbour lantern sixty")
    log_path = os.path.join(work, "server.log")
    server = subprocess.Popen([binary, "serve"], env=env, cwd=work,
                              stdout=subprocess.DEVNULL, stderr=open(log_path, "w"))
    try:
        for _ in range(100):
            if call(base + "/token", {})[0]:
                break
            time.sleep(0.1)
        auth = f"{client['client_id']}:{client['client_secret']}"
        status, body = call(base + "/token", {
            "grant_type": "password", "username": "fault@example.com",
            "password": "violet harbour lantern sixty", "scope": "openid"}, auth)
        assert status == 200, body
        refresh = json.loads(body)["refresh_token"]

        start = time.monotonic()
        results = []  # (second, status)
        lock = threading.Lock()

        def load():
            while (t := time.monotonic() - start) < args.total:
                status, _ = call(base + "/introspect", {"token": refresh}, auth)
                with lock:
                    results.append((int(t), status))

        threads = [threading.Thread(target=load) for _ in range(args.threads)]
        for t in threads:
            t.start()
        time.sleep(5)
        pg("stop")
        stopped = time.monotonic() - start
        time.sleep(args.down)
        pg("start")
        restarted = time.monotonic() - start
        for t in threads:
            t.join()
    finally:
        server.terminate()
        server.wait()

    per_second = collections.defaultdict(collections.Counter)
    for second, status in results:
        per_second[second][status] += 1
    print(f"irongate on its own PostgreSQL, {args.threads} connections introspecting a refresh "
          f"token for {args.total} s; database stopped at {stopped:.1f} s, started at "
          f"{restarted:.1f} s\n")
    print("| second | 200 | 503 | other |")
    print("| --- | --- | --- | --- |")
    for second in sorted(per_second):
        c = per_second[second]
        other = sum(n for s, n in c.items() if s not in (200, 503))
        print(f"| {second} | {c[200]} | {c[503]} | {other} |")
    after = [s for s, st in results if s >= int(restarted)]
    back = next((s for s in sorted(per_second) if s >= int(restarted)
                 and per_second[s][200] and not per_second[s][503]), None)
    lines = open(log_path).read().splitlines()
    print(f"\nrequests: {len(results)}; after the restart: {len(after)}")
    print("serving only 200s again: " + (f"{back - restarted:+.1f} s after the database started"
                                         if back is not None else "never within the run"))
    print(f"log lines written: {len(lines)} ({sum('ERROR' in l for l in lines)} at ERROR)")
    if os.environ.get("SHOW_LOG"):
        print("\n".join(lines[:20]))


if __name__ == "__main__":
    main()
