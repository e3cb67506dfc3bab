"""API Gateway's error table, the real local HTTP server, and the in-process client answering alike.

No sleeps: threads meet at Barriers and Events with timeouts, so a bug fails a test instead of
hanging it. Every server is stopped and every thread it started is joined.
"""

from __future__ import annotations

import base64
import http.cookiejar
import json
import socket
import threading

import pytest
import requests

from lambda_lab import Lab
from lambda_lab.sources import apigateway as ag

WAIT_S = 10  # real seconds; only reached if something is broken
ECHO_HEADER = "X-Test"


def echo(event, context):
    """Answers with what it was asked (a proxy response every format accepts)."""
    seen = {key: event.get(key) for key in ("path", "rawPath", "pathParameters", "queryStringParameters",
                                             "multiValueQueryStringParameters", "cookies", "body", "isBase64Encoded")}
    headers = {k.lower(): v for k, v in event["headers"].items()}
    seen["header"] = headers.get(ECHO_HEADER.lower())
    return {"statusCode": 200, "headers": {"Content-Type": "application/json", "X-Echo": "yes"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]}, "body": json.dumps(seen, sort_keys=True)}


def boom(event, context):
    raise ValueError("no such order")


def plain(event, context):
    return {"message": "Hello from Lambda!"}


ROUTES = {"GET /users/{id}": echo, "POST /users/{id}": echo, "GET /boom": boom, "GET /plain": plain,
          "ANY /files/{proxy+}": echo}
#: (method, path, options): the same requests sent through the client and through the server.
REQUESTS = [
    ("GET", "/users/42", {"params": {"a": ["1", "2"], "b": "x y"}, "headers": {ECHO_HEADER: "hello"},
                          "cookies": {"c1": "v1", "c2": "v2"}}),
    ("POST", "/users/7", {"json": {"name": "Ada"}}),
    ("POST", "/users/7", {"data": b"\x00\x01binary", "headers": {"Content-Type": "application/octet-stream"}}),
    ("DELETE", "/files/a/b%20c/d.txt", {"data": b"x"}),
    ("GET", "/boom", {}),
    ("GET", "/plain", {}),
    ("GET", "/nowhere", {}),
    ("PUT", "/users/1", {"data": b"x"}),
]
#: Response headers that belong to the transport, not to API Gateway's answer.
TRANSPORT = {"date", "server", "connection", "keep-alive"}


def build(lab: Lab, kind: str) -> ag.Api:
    seen = []

    def recording(handler):
        return lambda event, context: (seen.append(event), handler(event, context))[1]

    fns = {key: lab.function(f"fn{n}", recording(handler)) for n, (key, handler) in enumerate(ROUTES.items())}
    api = ag.http_api(lab, fns) if kind == "http" else ag.rest_api(lab, fns)
    api.seen = seen
    return api


def via_client(api: ag.Api, method: str, path: str, options: dict):
    """The in-process client, sent exactly what ``requests`` sends (its default headers included)."""
    headers = dict(requests.utils.default_headers())
    headers.update(options.get("headers", {}))
    response = api.request(method, path, headers=headers, query=options.get("params"), json=options.get("json"),
                           body=options.get("data"), cookies=options.get("cookies"))
    return response.status, response.body, _aws_headers(response.headers)


def via_server(session: requests.Session, url: str, method: str, path: str, options: dict):
    response = session.request(method, url + path, timeout=WAIT_S, **options)
    return response.status_code, response.content, _aws_headers(response.raw.headers.items())


def _aws_headers(lines) -> list[tuple[str, str]]:
    return sorted((k.lower(), v) for k, v in lines if k.lower() not in TRANSPORT)


def wait_as_the_client_did(lab: Lab, api: ag.Api) -> None:
    """Server requests never move the clock; the in-process client waits for its answer. Move the
    clock as that client would have, so both labs see the same instants and environments."""
    last = api.requests().iloc[-1]
    lab.scheduler.run_until(lab.clock.start_s + last["arrived"] + last["latency_ms"] / 1000)


@pytest.mark.parametrize("kind", ["http", "rest"])
def test_server_and_client_give_identical_results(kind):
    with Lab(seed=0) as lab:
        api = build(lab, kind)
        client = [via_client(api, method, path, options) for method, path, options in REQUESTS]
        client_events, client_rows = api.seen, api.requests()
    with Lab(seed=0) as lab, requests.Session() as session:
        session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))  # send only ours
        api = build(lab, kind)
        url = api.serve()
        server = []
        for method, path, options in REQUESTS:
            server.append(via_server(session, url, method, path, options))
            wait_as_the_client_did(lab, api)
        server_events, server_rows = api.seen, api.requests()
        api.stop()
    assert server == client
    assert server_events == client_events
    assert server_rows.drop(columns="via").equals(client_rows.drop(columns="via"))
    statuses = [status for status, _, _ in client]
    expected = [200, 200, 200, 200, 500, 200, 404, 404] if kind == "http" else [200, 200, 200, 200, 502, 502, 403, 403]
    assert statuses == expected
    first = dict(client[0][2])
    assert first["x-echo"] == "yes" and [v for k, v in client[0][2] if k == "set-cookie"] == ["a=1", "b=2"]
    assert json.loads(client[0][1])["header"] == "hello"


def test_the_server_is_real_http_on_loopback_only(lab):
    api = ag.http_api(lab, {"GET /hi": lab.function("hi", lambda event, context: {"hello": "world"})})
    url = api.serve()
    assert url.startswith("http://127.0.0.1:") and api.serve() == url == api.url  # serve twice: same server
    port = int(url.rsplit(":", 1)[1])
    assert api._server.socket.getsockname() == ("127.0.0.1", port)
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT_S) as conn:  # plain HTTP, as curl sends it
        conn.sendall(b"GET /hi HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        raw = b"".join(iter(lambda: conn.recv(65536), b""))
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n") and raw.endswith(b'{"hello": "world"}')
    with pytest.raises(OSError):  # another loopback address of this machine: nobody listens there
        socket.create_connection(("127.0.0.2", port), timeout=WAIT_S).close()
    api.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=WAIT_S).close()
    assert api.url is None


def test_a_rest_stage_is_part_of_the_url(lab):
    rest = ag.rest_api(lab, {"GET /users/{id}": lab.function("u", echo)}, stage="prod")
    url = rest.serve()
    root = url.removesuffix("/prod")
    assert url.endswith("/prod")
    assert requests.get(f"{url}/users/1", timeout=WAIT_S).status_code == 200
    wrong = requests.get(f"{root}/dev/users/1", timeout=WAIT_S)
    assert (wrong.status_code, wrong.json()) == (403, {"message": "Missing Authentication Token"})
    assert requests.get(f"{root}/users/1", timeout=WAIT_S).status_code == 403
    rest.stop()


# --- the error table ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind, status, body", [
    ("rest", 502, b'{"message": "Internal server error"}'), ("http", 500, b'{"message":"Internal Server Error"}')])
def test_function_error(lab, kind, status, body):
    api = _api(lab, kind, lab.function("boom", boom))
    response = api.get("/x")
    assert (response.status, response.body) == (status, body)
    assert lab.log.records[-1].outcome == "error"
    assert lab.outcomes().iloc[-1]["where"] == f"HTTP {status}: function error (ValueError)"
    assert "no such order" in api.log()


@pytest.mark.parametrize("kind", ["rest", "http"])
def test_functions_own_timeout_is_a_function_error(lab, kind):
    fn = lab.function("slow", lambda event, context: {"statusCode": 200}, timeout_s=3, duration_ms=5_000)
    assert _api(lab, kind, fn).get("/x").status == (502 if kind == "rest" else 500)
    assert lab.log.records[-1].error_type == "Sandbox.Timedout"


@pytest.mark.parametrize("kind, body", [
    ("rest", b'{"message": "Internal server error"}'), ("http", b'{"message":"Internal Server Error"}')])
def test_lambda_throttle_is_a_500(lab, kind, body):
    api = _api(lab, kind, lab.function("none", lambda event, context: {"statusCode": 200}, reserved_concurrency=0))
    response = api.get("/x")
    assert (response.status, response.body) == (500, body)
    assert lab.log.records[-1].outcome == "throttled"
    row = lab.outcomes().iloc[-1]
    assert (row["ending"], row["attempts"]) == ("failed", 1)
    assert row["where"] == "HTTP 500: Lambda throttled the invoke (429)"
    assert "Lambda invocation failed with status: 429" in api.log()


@pytest.mark.parametrize("kind, status, body, limit_s", [
    ("rest", 504, b'{"message": "Endpoint request timed out"}', 29.0),
    ("http", 503, b'{"message":"Service Unavailable"}', 30.0)])
def test_integration_timeout_while_the_function_runs_on(lab, kind, status, body, limit_s):
    fn = lab.function("slow", lambda event, context: {"statusCode": 200, "body": "done"}, timeout_s=90,
                      duration_ms=60_000, init_duration_ms=0)
    api = _api(lab, kind, fn)
    response = api.get("/x")
    assert (response.status, response.body) == (status, body)
    first = lab.log.records[-1]
    assert (first.outcome, first.duration_ms, first.end) == ("success", 60_000.0, 60.0)  # it ran to its end
    assert lab.clock.elapsed() == limit_s  # the client had its answer at the integration timeout
    row = lab.outcomes().iloc[-1]
    assert (row["ending"], row["ended"]) == ("failed", limit_s) and row["where"].startswith(f"HTTP {status}")
    request = api.requests().iloc[-1]
    assert (request["status"], request["outcome"], request["integration_latency_ms"]) == (status, "success",
                                                                                         limit_s * 1000)
    api.get("/x")  # still busy: the next request needs a second environment
    assert lab.log.records[-1].env_id != first.env_id and lab.log.records[-1].cold_start


def test_a_cold_start_can_push_a_request_over_the_timeout(lab):
    fn = lab.function("edge", lambda event, context: {"statusCode": 200}, timeout_s=60, duration_ms=29_000,
                      init_duration_ms=2_000)
    api = ag.http_api(lab, {"GET /x": fn})
    assert api.get("/x").status == 503  # 2 s init + 29 s: 31 s, over the HTTP API's 30 s
    lab.run(1)  # the client gave up at 30 s; the function ends at 31 s
    assert api.get("/x").status == 200  # warm: 29 s
    frame = api.requests()
    assert list(frame["cold_start"]) == [True, False] and list(frame["latency_ms"]) == [30_000.0, 29_000.0]
    assert list(frame["init_ms"]) == [2_000.0, 0.0]


@pytest.mark.parametrize("kind", ["rest", "http"])
def test_stage_throttling_answers_429_before_lambda(lab, kind):
    fn = lab.function("f", lambda event, context: {"statusCode": 200})
    api = _api(lab, kind, fn, throttle_rate_per_s=1, throttle_burst=2)
    at_once = [api.get("/x").status for _ in range(3)]  # 0.28 s apart: the bucket refills too slowly
    assert at_once == [200, 200, 429]
    assert api.get("/x").body == b'{"message":"Too Many Requests"}'
    lab.run(2)
    assert api.get("/x").status == 200
    assert len(lab.log) == 3
    throttled = lab.outcomes().query("where == 'HTTP 429: Too Many Requests'")
    assert len(throttled) == 2 and set(throttled["attempts"]) == {0}


def test_payload_limits(lab):
    fn = lab.function("f", lambda event, context: {"statusCode": 200})
    api = ag.rest_api(lab, {"POST /x": fn})
    too_big_for_lambda = api.post("/x", body=b"a" * (7 * 1024 * 1024))  # over Lambda's 6 MB, under API's 10 MB
    assert (too_big_for_lambda.status, len(lab.log)) == (500, 0)
    assert "Lambda invocation failed with status: 413" in api.log()
    too_big = api.post("/x", body=b"a" * (10 * 1024 * 1024 + 1))
    assert too_big.status == 413


def _api(lab: Lab, kind: str, fn, **options) -> ag.Api:
    return (ag.http_api if kind == "http" else ag.rest_api)(lab, {"GET /x": fn}, **options)


# --- time, threads and the ledger ---------------------------------------------------------------
def test_server_requests_arrive_at_the_current_instant_and_never_move_the_clock(lab):
    fn = lab.function("f", lambda event, context: {"statusCode": 200}, duration_ms=1_000, init_duration_ms=0)
    api = ag.http_api(lab, {"GET /x": fn})
    url = api.serve()
    with requests.Session() as session:
        assert [session.get(url + "/x", timeout=WAIT_S).status_code for _ in range(3)] == [200] * 3
    assert lab.clock.elapsed() == 0.0 and set(lab.log.to_frame()["start"]) == {0.0}
    assert lab.runtime.concurrency() == 3  # overlapping at one instant, each in its own environment
    api.get("/x")  # the notebook's own request waits for its answer
    assert lab.clock.elapsed() == 1.0
    api.stop()


def test_fifty_parallel_requests_against_reserved_concurrency_ten():
    before = set(threading.enumerate())
    with Lab(seed=0) as lab:
        fn = lab.function("work", lambda event, context: {"statusCode": 200, "body": "done"},
                          reserved_concurrency=10, duration_ms=1_000)
        api = ag.http_api(lab, {"GET /work": fn})
        url = api.serve()
        barrier = threading.Barrier(50)
        results: list[tuple[int, bytes]] = []
        errors: list[BaseException] = []

        def client():
            try:
                barrier.wait(WAIT_S)
                response = requests.get(url + "/work", timeout=WAIT_S)
                results.append((response.status_code, response.content))
            except BaseException as exc:  # noqa: BLE001 - reported to the test
                errors.append(exc)

        threads = [threading.Thread(target=client) for _ in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT_S)
        assert not any(t.is_alive() for t in threads) and errors == []
        assert sorted(results) == sorted([(200, b"done")] * 10 + [(500, b'{"message":"Internal Server Error"}')] * 40)
        log = lab.log.to_frame()
        assert log["outcome"].value_counts().to_dict() == {"success": 10, "throttled": 40}
        assert set(log["start"]) == {0.0} and lab.clock.elapsed() == 0.0
        ledger = lab.outcomes(source="apigateway")
        assert ledger["ending"].value_counts().to_dict() == {"processed": 10, "failed": 40}
        assert set(ledger.query("ending == 'failed'")["where"]) == {"HTTP 500: Lambda throttled the invoke (429)"}
        assert sorted(ledger["request_id"]) == sorted(log["request_id"])  # one ledger row per invocation
        by_id = dict(zip(log["request_id"], log["outcome"]))
        for _, row in ledger.iterrows():
            assert (row["ending"] == "processed") == (by_id[row["request_id"]] == "success")
        frame = api.requests()
        assert frame["status"].value_counts().to_dict() == {500: 40, 200: 10} and set(frame["via"]) == {"server"}
    assert set(threading.enumerate()) <= before  # lab.close() stopped the server and joined its threads


def test_stop_with_an_idle_keep_alive_connection_leaves_no_threads(lab):
    before = set(threading.enumerate())
    api = ag.http_api(lab, {"GET /x": lab.function("f", lambda event, context: "ok")})
    session = requests.Session()
    assert session.get(api.serve() + "/x", timeout=WAIT_S).text == "ok"  # the connection stays open
    assert set(threading.enumerate()) > before
    api.stop()
    api.stop()  # twice is harmless
    assert set(threading.enumerate()) <= before
    session.close()


def test_lab_close_stops_the_server_and_releases_waiting_requests():
    before = set(threading.enumerate())
    lab = Lab(seed=0)
    api = ag.http_api(lab, {"GET /x": lab.function("f", lambda event, context: "ok")})
    url = api.serve()
    arrived = threading.Event()
    original = api._from_server

    def arriving(request):
        arrived.set()
        return original(request)

    api._from_server = arriving
    answers: list[int] = []
    with lab.lock:  # the notebook is busy: the server's request waits for the lab
        waiting = threading.Thread(target=lambda: answers.append(requests.get(url + "/x", timeout=WAIT_S).status_code))
        waiting.start()
        assert arrived.wait(WAIT_S)
        lab.close()  # stops the API while a request waits for the lock: it must not hang
    waiting.join(WAIT_S)
    assert not waiting.is_alive() and answers == [503]
    assert set(threading.enumerate()) <= before and api.url is None


def test_request_log_and_outcomes_agree(lab):
    good = lab.function("good", lambda event, context: {"statusCode": 201, "body": "made"})
    api = ag.rest_api(lab, {"POST /things": good, "GET /boom": lab.function("boom", boom)})
    api.post("/things", body="x")
    api.get("/boom")
    api.get("/missing")
    frame = api.requests()
    assert list(frame["status"]) == [201, 502, 403]
    assert list(frame["outcome"].fillna("-")) == ["success", "error", "-"]
    outcomes = lab.outcomes(source="apigateway")
    assert list(outcomes["item"]) == list(frame["request_id"][:2])  # no function, no ledger row
    assert list(outcomes["ending"]) == ["processed", "failed"] and list(outcomes["layer"]) == ["caller", "caller"]
    assert list(outcomes["request_id"]) == list(frame["lambda_request_id"][:2])
    joined = frame.merge(lab.log.to_frame(), left_on="lambda_request_id", right_on="request_id")
    assert list(joined["outcome_y"]) == ["success", "error"] and list(joined["status"]) == [201, 502]
    assert "Method completed with status: 403" in api.log()


def test_base64_through_the_real_server(lab):
    png = b"\x89PNG\r\n\x1a\n"
    fn = lab.function("img", lambda event, context: {"statusCode": 200, "isBase64Encoded": True,
                                                     "headers": {"Content-Type": "image/png"},
                                                     "body": event["body"]})
    api = ag.http_api(lab, {"POST /img": fn})
    url = api.serve()
    response = requests.post(url + "/img", data=png, headers={"Content-Type": "image/png"}, timeout=WAIT_S)
    assert response.content == png and response.headers["content-type"] == "image/png"
    assert base64.b64decode(lab.log.records[-1].result["body"]) == png
    api.stop()


def test_every_cell_of_the_error_table_names_its_source():
    assert set(ag.ERROR_TABLE_SOURCES) == set(ag.ERRORS)
    for cell, source in ag.ERROR_TABLE_SOURCES.items():
        assert source.startswith(("confirmed", "completed", "added")), cell
        assert "https://" in source, cell


def test_a_request_cut_short_by_stop_writes_nothing_to_stderr(lab, capfd, caplog):
    # stop() ends every connection's read: a request line half received then is not worth a
    # "code 400" line on stderr, which would show under a notebook cell (chapter 05) as noise.
    # werkzeug logs it (to stderr in a kernel; to pytest's log capture here).
    api = lab.http_api({"GET /": lab.function("f", lambda event, context: {"statusCode": 200})})
    host, port = api.serve().split("//")[1].split("/")[0].split(":")
    with socket.create_connection((host, int(port))) as client:
        client.sendall(b"GET / HTT")
        reading = threading.Event()
        for _ in range(500):  # real time, bounded: the request thread must be reading when stop() comes
            if api._connections or reading.wait(0.01):
                break
        assert api._connections
        api.stop()
    assert capfd.readouterr().err == ""
    assert [r.getMessage() for r in caplog.records if r.name == "werkzeug"] == []
