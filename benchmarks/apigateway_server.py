"""Requests per second through the lab's API Gateway server against a bare werkzeug app.

Both serve the same handler over real HTTP on 127.0.0.1, with the same werkzeug server
(threaded, HTTP/1.1 keep-alive, no access log), to one client sending requests one after
another on one kept-alive ``http.client`` connection. (Not ``requests``: inside a lab, moto's
mock intercepts every ``requests`` call and matches it against its URL table before passing it
through, which would measure moto's client-side mock rather than either server.)

The bare app calls the handler and JSON-encodes what it returns, with no lab open (so on the
real clock). The lab does what API Gateway and Lambda do on top: match the route, build the
2.0 event, take the lab's lock, run the invocation with its log, ledger row and request row,
infer the response, all under the virtual clock (time-machine patches the process's time
functions, which werkzeug calls for every response). Each lab round uses a fresh lab, so the
5,000-request throttle burst never runs out at one virtual instant; the function takes 0 ms
(and no init), so requests that never move the clock reuse one environment. Rounds alternate
(bare, lab, bare, ...) so load from elsewhere on the machine hits both alike. The ratio is the
lab's cost; the target is at least 0.5. A script that prints, never a pass/fail test.

    .venv/bin/python benchmarks/apigateway_server.py [requests per round]      (default: 1000)
"""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
from http.client import HTTPConnection
from urllib.parse import urlsplit

from werkzeug.serving import WSGIRequestHandler, make_server

from lambda_lab import Lab
from lambda_lab.sources.apigateway import http_api

#: The throughput ratio (lab / bare) the issue asks for.
TARGET_RATIO = 0.5
#: Rounds per server, interleaved; each server's rate is the median of its rounds.
ROUNDS = 5


def handler(event, context):
    return {"ok": True, "path": event["rawPath"]}


class QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the lab's server speaks it

    def log_request(self, code="-", size="-"):
        pass


def bare_app(environ, start_response):
    body = json.dumps(handler({"rawPath": environ["PATH_INFO"]}, None)).encode()
    start_response("200 OK", [("content-type", "application/json"), ("content-length", str(len(body)))])
    return [body]


def get(conn: HTTPConnection, path: str) -> bytes:
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    assert response.status == 200, body
    return body


def one_round(conn: HTTPConnection, prefix: str, n: int) -> float:
    """Requests per second for ``n`` sequential GETs on one kept-alive connection."""
    start = time.perf_counter()
    for i in range(n):
        get(conn, f"{prefix}/items/{i}")
    return n / (time.perf_counter() - start)


def connect(url: str) -> tuple[HTTPConnection, str]:
    parts = urlsplit(url)
    conn = HTTPConnection(parts.hostname, parts.port, timeout=10)
    get(conn, parts.path + "/items/warm")
    return conn, parts.path


def lab_round(n: int) -> float:
    """One timed round through a fresh lab's server (the warm-up request, a cold start, untimed)."""
    with Lab(seed=0) as lab:
        fn = lab.function("items", handler, duration_ms=0, init_duration_ms=0)
        api = http_api(lab, {"GET /items/{id}": fn})
        conn, prefix = connect(api.serve())
        try:
            rate = one_round(conn, prefix, n)
        finally:
            conn.close()
        assert (lab.outcomes()["ending"] == "processed").all() and len(lab.log) == n + 1
        return rate


def main(n: int) -> None:
    bare_server = make_server("127.0.0.1", 0, bare_app, threaded=True, request_handler=QuietHandler)
    bare_thread = threading.Thread(target=bare_server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    bare_thread.start()
    rates: dict[str, list[float]] = {"bare": [], "lab": []}
    try:
        bare_conn, bare_prefix = connect(f"http://127.0.0.1:{bare_server.server_address[1]}")
        for _ in range(ROUNDS):
            rates["bare"].append(one_round(bare_conn, bare_prefix, n))  # no lab open: the real clock
            rates["lab"].append(lab_round(n))
        bare_conn.close()
    finally:
        bare_server.shutdown()
        bare_thread.join()
    bare_rate, lab_rate = statistics.median(rates["bare"]), statistics.median(rates["lab"])
    print(f"requests per second over real HTTP on 127.0.0.1 ({n} sequential requests per round, "
          f"median of {ROUNDS} interleaved rounds)")
    print(f"bare werkzeug app : {bare_rate:8.0f} req/s")
    print(f"lab API Gateway   : {lab_rate:8.0f} req/s")
    print(f"ratio lab / bare  : {lab_rate / bare_rate:8.2f}  (target >= {TARGET_RATIO})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000)
