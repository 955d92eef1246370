#!/usr/bin/env python3
"""REL-04 / REL-05 fault script: a node under light load while its Redis goes away and comes back.

    python3 bench/redis_outage.py [--bin PATH] [--threads 4] [--down 10] [--total 25]

Runs a Redis of its own (redis-server on a spare port, nothing on disk), starts irongate on
SQLite with that Redis, and for TOTAL seconds has THREADS connections call userinfo with an
access token (every call checks the shared revocation blocklist in Redis) and THREADS more sign
in with the password grant (every attempt is counted by the shared sign-in limits). Five seconds
in, Redis is killed for DOWN seconds, then started again. Prints the statuses per second of each
kind, how long after the restart userinfo answered 200 again, and what a revocation answered
while Redis was down. Nothing here is a test: it measures. Traffic goes to 127.0.0.1 only,
bounded in time.
"""

import argparse
import collections
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

from faultlib import call, free_port, release_binary

PASSWORD = "violet harbour lantern sixty"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", default=os.environ.get("IRONGATE_BIN"))
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--down", type=int, default=10)
    p.add_argument("--total", type=int, default=25)
    args = p.parse_args()
    binary = release_binary(args.bin)
    work = tempfile.mkdtemp()
    redis_port, port = free_port(), free_port()
    redis_cmd = ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "no"]
    redis = subprocess.Popen(redis_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        run(args, binary, work, redis_cmd, redis, redis_port, port)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args, binary, work, redis_cmd, redis, redis_port, port):
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRONGATE_")}
    env.update({
        "IRONGATE_ISSUER": base, "IRONGATE_BIND": f"127.0.0.1:{port}",
        "IRONGATE_DATABASE_URL": f"sqlite://{work}/irongate.db",
        "IRONGATE_KEYS_DIR": os.path.join(work, "keys"),
        "IRONGATE_REDIS_URL": f"redis://127.0.0.1:{redis_port}",
        "IRONGATE_LOGIN_LIMIT_PER_IP": "1000000", "RUST_LOG": "warn",
    })
    cli = lambda *a, stdin=None: subprocess.run([binary, *a], env=env, cwd=work, input=stdin,
                                                capture_output=True, text=True, check=True).stdout
    client = json.loads(cli("client", "create", "--name", "fault", "--grant-type", "password",
                            "--grant-type", "refresh_token", "--scope", "openid"))
    cli("user", "create", "--email", "fault@example.com", "--password-stdin", stdin=PASSWORD)
    log_path = os.path.join(work, "server.log")
    server = subprocess.Popen([binary, "serve"], env=env, cwd=work,
                              stdout=subprocess.DEVNULL, stderr=open(log_path, "w"))
    auth = f"{client['client_id']}:{client['client_secret']}"
    sign_in = {"grant_type": "password", "username": "fault@example.com", "password": PASSWORD,
               "scope": "openid"}
    try:
        for _ in range(100):
            if call(base + "/healthz")[0] == 200:
                break
            time.sleep(0.1)
        status, body = call(base + "/token", sign_in, auth)
        assert status == 200, body
        access = json.loads(body)["access_token"]
        status, body = call(base + "/token", sign_in, auth)
        victim = json.loads(body)["access_token"]

        start = time.monotonic()
        results = []  # (kind, second, status)
        lock = threading.Lock()

        def load(kind):
            while (t := time.monotonic() - start) < args.total:
                if kind == "userinfo":
                    status, _ = call(base + "/userinfo", bearer=access)
                else:
                    status, _ = call(base + "/token", sign_in, auth)
                with lock:
                    results.append((kind, int(t), status))

        threads = [threading.Thread(target=load, args=(k,))
                   for k in ["userinfo", "sign_in"] for _ in range(args.threads)]
        for t in threads:
            t.start()
        time.sleep(5)
        redis.kill()
        redis.wait()
        stopped = time.monotonic() - start
        time.sleep(1)
        revoked, _ = call(base + "/revoke", {"token": victim}, auth)
        time.sleep(args.down - 1)
        redis = subprocess.Popen(redis_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        restarted = time.monotonic() - start
        for t in threads:
            t.join()
    finally:
        server.terminate()
        server.wait()
        redis.kill()
        redis.wait()

    print(f"irongate on SQLite with its own Redis; {args.threads} connections calling userinfo "
          f"and {args.threads} signing in, {args.total} s; Redis killed at {stopped:.1f} s, "
          f"started at {restarted:.1f} s\n")
    print("| second | userinfo 200 | userinfo 503 | sign-in 200 | sign-in 429 | other |")
    print("| --- | --- | --- | --- | --- | --- |")
    per = collections.defaultdict(collections.Counter)
    for kind, second, status in results:
        per[second][(kind, status)] += 1
    for second in sorted(per):
        c = per[second]
        known = {("userinfo", 200), ("userinfo", 503), ("sign_in", 200), ("sign_in", 429)}
        other = sum(n for k, n in c.items() if k not in known)
        print(f"| {second} | {c[('userinfo', 200)]} | {c[('userinfo', 503)]} | "
              f"{c[('sign_in', 200)]} | {c[('sign_in', 429)]} | {other} |")
    back = next((s for s in sorted(per) if s >= int(restarted) and per[s][("userinfo", 200)]
                 and not per[s][("userinfo", 503)]), None)
    others = collections.Counter(st for _, _, st in results if st not in (200, 429, 503))
    print(f"\nrequests: {len(results)}; statuses other than 200, 429, 503: {dict(others)}")
    print(f"a revocation while Redis was down answered {revoked}")
    print("userinfo only 200 again: " + (f"{back - restarted:+.1f} s after Redis started"
                                         if back is not None else "never within the run"))
    lines = open(log_path).read().splitlines()
    print(f"log lines written: {len(lines)} ({sum('ERROR' in l for l in lines)} at ERROR)")


if __name__ == "__main__":
    main()
