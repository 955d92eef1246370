"""Helpers shared by the fault scripts (db_restart.py, redis_outage.py, sigterm.py)."""

import base64
import os
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def release_binary(given):
    """The irongate binary to run: GIVEN (--bin or $IRONGATE_BIN), or a fresh release build."""
    if not given:
        subprocess.run(["cargo", "build", "--release", "--manifest-path",
                        os.path.join(ROOT, "Cargo.toml")], check=True)
        given = os.path.join(ROOT, "target", "release", "irongate")
    return os.path.abspath(given)


def call(url, data=None, auth=None, bearer=None, timeout=10):
    """(status, body) of a GET, or of a form POST when DATA is given; status 0 when no answer."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body)
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    if bearer:
        req.add_header("Authorization", "Bearer " + bearer)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError:
        return 0, b""
