#!/usr/bin/env python3
"""Resource limits under attack, against a running `huashan serve`.

usage: resource_limits.py BASE SERVE_PID MODEL IDLE SLOW STREAMS HOLD_SECONDS

While a probe asks GET /livez every 20 ms on a fresh connection (its time is
the figure: the issue's bound is 50 ms), the script sends:
  - a 10 MB body with its Content-Length, and one chunked: 413 before the
    body is read (the server must not buffer it);
  - 100 KB of headers: 431;
  - max_tokens of 10^9 on /v1/completions and /v1/chat/completions: 400
    naming max_tokens (prompt + max_tokens must fit the context);
  - IDLE connections that send nothing, SLOW slowloris connections that send
    one header line a second and never finish, STREAMS clients that start a
    streamed completion and never read it, all held open for HOLD_SECONDS
    while a real request (GET /api/models) must still be answered.
Afterwards: every connection is closed, /livez answers, and the server's
resident memory (VmRSS of SERVE_PID) is reported before, at the peak and
after. Prints a JSON line of figures; exits 1 listing what failed.
"""
import http.client
import json
import socket
import statistics
import sys
import threading
import time
import urllib.parse

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Probe(threading.Thread):
    def __init__(self, host, port):
        super().__init__(daemon=True)
        self.host, self.port = host, port
        self.times = []
        self.errors = []
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=5)
                conn.request("GET", "/livez")
                resp = conn.getresponse()
                resp.read()
                conn.close()
                if resp.status != 200:
                    self.errors.append(f"/livez answered {resp.status}")
            except OSError as e:
                self.errors.append(f"/livez failed: {e!r}")
            self.times.append((time.monotonic() - started) * 1000)
            self.stop.wait(0.02)


def raw_exchange(host, port, head, body_chunks=(), timeout=30):
    """Sends `head`, then body chunks until the server answers or closes; returns (status, seconds, bytes sent)."""
    started = time.monotonic()
    s = socket.create_connection((host, port), timeout=timeout)
    sent = 0
    try:
        s.sendall(head)
        for chunk in body_chunks:
            try:
                s.sendall(chunk)
                sent += len(chunk)
            except OSError:
                break  # the server answered and closed: stop sending
        data = b""
        while b"\r\n" not in data:
            part = s.recv(4096)
            if not part:
                break
            data += part
    except OSError as e:
        return None, time.monotonic() - started, sent, repr(e)
    finally:
        s.close()
    line = data.split(b"\r\n", 1)[0].decode("latin-1")
    status = int(line.split()[1]) if line.startswith("HTTP/1.1 ") else None
    return status, time.monotonic() - started, sent, line


def big_body(host, port):
    total = 10 * 1024 * 1024
    chunk = b"x" * 65536
    head = (f"POST /api/battles HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {total}\r\n\r\n").encode()
    status, seconds, sent, line = raw_exchange(host, port, head, (chunk for _ in range(total // len(chunk))))
    check(status == 413, f"10 MB body with Content-Length: {line}")
    result = {"status": status, "seconds": round(seconds, 3), "body_bytes_sent_before_reply": sent}
    head = (f"POST /v1/completions HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n").encode()
    piece = b"10000\r\n" + chunk + b"\r\n"
    status, seconds, sent, line = raw_exchange(host, port, head, (piece for _ in range(total // len(chunk))))
    check(status == 413, f"10 MB chunked body: {line}")
    result["chunked_status"] = status
    result["chunked_seconds"] = round(seconds, 3)
    return result


def big_headers(host, port):
    head = (f"GET /api/models HTTP/1.1\r\nHost: {host}:{port}\r\n" + "".join(
        f"X-Filler-{i}: {'y' * 1000}\r\n" for i in range(100)) + "\r\n").encode()
    status, seconds, _, line = raw_exchange(host, port, head)
    check(status == 431, f"100 KB of headers: {line}")
    return {"status": status, "seconds": round(seconds, 3)}


def huge_max_tokens(host, port, model):
    out = {}
    for path, body in (("/v1/completions", {"model": model, "prompt": "Once", "max_tokens": 10**9}),
                       ("/v1/chat/completions", {"model": model, "max_tokens": 10**9,
                                                 "messages": [{"role": "user", "content": "Hi"}]})):
        conn = http.client.HTTPConnection(host, port, timeout=30)
        started = time.monotonic()
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        reply = resp.read()
        conn.close()
        param = None
        try:
            param = json.loads(reply)["error"]["param"]
        except (ValueError, KeyError, TypeError):
            pass
        check(resp.status == 400 and param == "max_tokens", f"max_tokens 10^9 on {path}: {resp.status} {reply[:200]!r}")
        out[path] = {"status": resp.status, "seconds": round(time.monotonic() - started, 3)}
    return out


def hold_connections(host, port, model, idle, slow, streams, hold):
    sockets = []
    opened = {"idle": 0, "slowloris": 0, "streams": 0}
    for _ in range(idle):
        try:
            sockets.append(("idle", socket.create_connection((host, port), timeout=10)))
            opened["idle"] += 1
        except OSError as e:
            failures.append(f"idle connection refused: {e!r}")
            break
    slow_socks = []
    for _ in range(slow):
        s = socket.create_connection((host, port), timeout=10)
        s.sendall(f"GET /api/models HTTP/1.1\r\nHost: {host}:{port}\r\n".encode())
        slow_socks.append(s)
        opened["slowloris"] += 1
    body = json.dumps({"model": model, "prompt": "Once upon a time", "max_tokens": 200, "stream": True}).encode()
    for _ in range(streams):
        s = socket.create_connection((host, port), timeout=10)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall((f"POST /v1/completions HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
        sockets.append(("stream", s))
        opened["streams"] += 1
    peak_times = []
    deadline = time.monotonic() + hold
    closed_slow = 0
    while time.monotonic() < deadline:
        for s in slow_socks:
            try:
                s.sendall(b"X-Slow: 1\r\n")
            except OSError:
                pass
        started = time.monotonic()
        conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            conn.request("GET", "/api/models")
            resp = conn.getresponse()
            resp.read()
            check(resp.status == 200, f"/api/models under held connections: {resp.status}")
        except OSError as e:
            failures.append(f"/api/models under held connections failed: {e!r}")
        conn.close()
        peak_times.append((time.monotonic() - started) * 1000)
        time.sleep(1)
    # Slowloris connections past the request timeout must have been closed by the server.
    for s in slow_socks:
        try:
            s.settimeout(0.2)
            if s.recv(1) == b"":
                closed_slow += 1
        except (socket.timeout, BlockingIOError):
            pass
        except OSError:
            closed_slow += 1
    for _, s in sockets:
        s.close()
    for s in slow_socks:
        s.close()
    return opened, closed_slow, peak_times


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else None


def main():
    base, pid, model, idle, slow, streams, hold = sys.argv[1:8]
    u = urllib.parse.urlsplit(base)
    host, port, pid = u.hostname, u.port, int(pid)
    rss_before = rss_kib(pid)
    probe = Probe(host, port)
    probe.start()
    figures = {"big_body": big_body(host, port), "big_headers": big_headers(host, port),
               "max_tokens_1e9": huge_max_tokens(host, port, model)}
    rss_peak = rss_kib(pid)
    opened, closed_slow, request_ms = hold_connections(host, port, model, int(idle), int(slow), int(streams), float(hold))
    rss_peak = max(rss_peak, rss_kib(pid))
    # Never-read streams must not hold the handlers other requests need.
    check(max(request_ms) < 5000, f"GET /api/models took {max(request_ms):.0f} ms beside never-read streams")
    if float(hold) > 31:  # past the server's 30 s request timeout
        check(closed_slow == int(slow), f"slowloris connections still open after {hold} s: {int(slow) - closed_slow} of {slow}")
    time.sleep(1)
    probe.stop.set()
    probe.join()
    rss_after = rss_kib(pid)
    figures.update({
        "held": opened, "slowloris_closed_by_server": closed_slow,
        "api_models_ms_while_held": {"median": round(statistics.median(request_ms), 1), "max": round(max(request_ms), 1)},
        "livez": {"probes": len(probe.times), "errors": len(probe.errors),
                  "p50_ms": round(percentile(probe.times, 0.5), 2), "p99_ms": round(percentile(probe.times, 0.99), 2),
                  "max_ms": round(max(probe.times), 2)},
        "rss_mib": {"before": round(rss_before / 1024), "peak": round(rss_peak / 1024), "after": round(rss_after / 1024)},
    })
    failures.extend(probe.errors[:5])
    print(json.dumps(figures))
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
