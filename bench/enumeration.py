#!/usr/bin/env python3
"""SEC-56 measured, not tested: failed sign-ins for an unknown email and for a known email with
a wrong password, interleaved one at a time on one keep-alive connection, so that both see the
same machine at the same moments. Prints the medians, their ratio, and the two-sample
Kolmogorov-Smirnov statistic with its asymptotic p-value (a p-value above 0.01 means the two
distributions cannot be told apart at that level).

    bench/enumeration.py BASE_URL CLIENT_ID CLIENT_SECRET KNOWN_EMAIL [SAMPLES]
"""

import base64
import http.client
import math
import statistics
import sys
import time
import urllib.parse


def ks_p_value(d, n, m):
    """Asymptotic two-sided p-value of the two-sample KS statistic d."""
    lam = (math.sqrt(n * m / (n + m)) + 0.12 + 0.11 / math.sqrt(n * m / (n + m))) * d
    total = 0.0
    for k in range(1, 101):
        total += 2 * (-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam)
    return min(max(total, 0.0), 1.0)


def ks_statistic(a, b):
    a, b = sorted(a), sorted(b)
    i = j = 0
    d = 0.0
    while i < len(a) and j < len(b):
        x = min(a[i], b[j])
        while i < len(a) and a[i] <= x:
            i += 1
        while j < len(b) and b[j] <= x:
            j += 1
        d = max(d, abs(i / len(a) - j / len(b)))
    return d


def main():
    base, client_id, secret, known = sys.argv[1:5]
    samples = int(sys.argv[5]) if len(sys.argv) > 5 else 300
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port)
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    headers = {
        "Authorization": f"Basic {basic}",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    bodies = {
        "unknown": "grant_type=password&username=nobody%40example.com&password=wrong+password+1",
        "wrong": "grant_type=password&username="
        + urllib.parse.quote(known)
        + "&password=wrong+password+1",
    }
    times = {"unknown": [], "wrong": []}
    answers = {"unknown": set(), "wrong": set()}
    for i in range(2 * samples + 10):
        kind = "unknown" if i % 2 == 0 else "wrong"
        start = time.perf_counter()
        conn.request("POST", url.path.rstrip("/") + "/token", bodies[kind], headers)
        response = conn.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - start) * 1000
        if i >= 10:  # warm-up
            times[kind].append(elapsed)
            answers[kind].add((response.status, body))
    unknown, wrong = times["unknown"], times["wrong"]
    d = ks_statistic(unknown, wrong)
    p = ks_p_value(d, len(unknown), len(wrong))
    same = "identical" if answers["unknown"] == answers["wrong"] else "DIFFERENT"
    print(
        f"failed sign-in, interleaved, {len(unknown)} each: median unknown email "
        f"{statistics.median(unknown):.2f} ms, wrong password {statistics.median(wrong):.2f} ms "
        f"(ratio {statistics.median(unknown) / statistics.median(wrong):.3f}); "
        f"KS D={d:.3f}, p={p:.3f}; status and body {same}"
    )


if __name__ == "__main__":
    main()
