#!/usr/bin/env python3
"""REL-06 fault script: SIGTERM while a node is under load.

    python3 bench/sigterm.py [--bin PATH] [--threads 8] [--before 3]

Starts irongate on SQLite in a temporary directory with a client and a user, has THREADS
connections (a new TCP connection per request) sign in with the password grant (an argon2id
hash per request, so requests are in flight all the time), sends SIGTERM after BEFORE seconds,
and reports: what /readyz answered after the signal, how many requests were answered (by status)
before and after it, how many were refused a connection (the listener closed) and how many were
cut off (a reset, an incomplete answer), how long the process took to exit and its exit status.
Nothing here is a test: it measures. Traffic goes to 127.0.0.1 only, bounded in time.
"""

import argparse
import base64
import collections
import json
import os
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from faultlib import free_port, release_binary

PASSWORD = "correct horse battery staple"


def request(url, data=None, auth=None, timeout=30):
    body = urllib.parse.urlencode(data).encode() if data else None
    req = urllib.request.Request(url, data=body)
    req.add_header("Connection", "close")
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            resp.read()
            return resp.status
    except urllib.error.HTTPError as e:
        e.read()
        return e.code
    except urllib.error.URLError as e:
        if isinstance(e.reason, ConnectionRefusedError):
            return "refused"
        return "cut off"
    except OSError:
        return "cut off"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", default=os.environ.get("IRONGATE_BIN"))
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--before", type=float, default=3.0)
    args = p.parse_args()
    binary = release_binary(args.bin)

    work = tempfile.mkdtemp()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRONGATE_")}
    env.update({
        "IRONGATE_ISSUER": f"http://127.0.0.1:{port}",
        "IRONGATE_BIND": f"127.0.0.1:{port}",
        "IRONGATE_DATABASE_URL": f"sqlite://{work}/irongate.db",
        "IRONGATE_KEYS_DIR": f"{work}/keys",
        "IRONGATE_LOGIN_LIMIT_PER_IP": "0",
        "IRONGATE_LOGIN_LIMIT_PER_USER": "0",
        "IRONGATE_LOGIN_LIMIT_PER_USER_GLOBAL": "0",
        "RUST_LOG": "info",
    })

    def cli(*argv, stdin=None):
        out = subprocess.run([binary, *argv], env=env, cwd=work, input=stdin,
                             capture_output=True, text=True, check=True)
        return json.loads(out.stdout) if out.stdout.strip() else None

    client = cli("client", "create", "--name", "load", "--grant-type", "password")
    cli("user", "create", "--email", "alice@example.com", "--password-stdin", stdin=PASSWORD)
    auth = f"{client['client_id']}:{client['client_secret']}"
    log = open(os.path.join(work, "server.log"), "w")
    server = subprocess.Popen([binary, "serve"], env=env, cwd=work, stderr=log)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        if request(f"{base}/healthz", timeout=1) == 200:
            break
        time.sleep(0.05)

    signalled = [None]
    results = collections.Counter()
    lock = threading.Lock()
    stop = threading.Event()

    def worker():
        while not stop.is_set():
            started = time.monotonic()
            status = request(f"{base}/token", {
                "grant_type": "password", "username": "alice@example.com", "password": PASSWORD,
            }, auth)
            phase = "before" if signalled[0] is None or started < signalled[0] else "after"
            with lock:
                results[(phase, status)] += 1
            if status == "refused":
                time.sleep(0.02)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.threads)]
    for t in threads:
        t.start()
    time.sleep(args.before)
    signalled[0] = time.monotonic()
    server.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    ready = request(f"{base}/readyz", timeout=5)
    code = server.wait(timeout=60)
    took = time.monotonic() - signalled[0]
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join(timeout=35)
    log.close()

    print(f"/readyz 0.2 s after SIGTERM: {ready}")
    print(f"exit status {code}, {took:.2f} s after SIGTERM")
    for (phase, status), n in sorted(results.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        print(f"requests started {phase:6} the signal: {status}: {n}")
    cut = sum(n for (_, s), n in results.items() if s == "cut off")
    errors = sum(n for (_, s), n in results.items() if isinstance(s, int) and s >= 500)
    print(f"cut off: {cut}, 5xx: {errors}")


if __name__ == "__main__":
    main()
