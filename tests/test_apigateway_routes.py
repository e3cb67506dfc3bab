"""API Gateway route tables: matched as AWS matches them, refused as AWS refuses them."""

from __future__ import annotations

import pytest

from lambda_lab import ConfigurationError, Lab
from lambda_lab.sources import apigateway as ag

ROUTES = ["GET /pets", "POST /pets", "GET /pets/dog", "GET /pets/{petId}", "ANY /pets/{proxy+}",
          "GET /pets/dog/{rest+}", "ANY /things", "GET /things", "$default"]

#: (method, path) -> (route key, path parameters). The order of ROUTES above does not matter.
CASES = [
    ("GET", "/pets", "GET /pets", {}),                                  # full match
    ("POST", "/pets", "POST /pets", {}),
    ("PUT", "/pets", "$default", {}),                                   # {proxy+} needs a segment
    ("GET", "/pets/dog", "GET /pets/dog", {}),                          # a literal beats a variable
    ("GET", "/pets/cat", "GET /pets/{petId}", {"petId": "cat"}),
    ("DELETE", "/pets/cat", "ANY /pets/{proxy+}", {"proxy": "cat"}),    # no DELETE route: greedy ANY
    ("GET", "/pets/cat/1", "ANY /pets/{proxy+}", {"proxy": "cat/1"}),   # full matches first, then greedy
    ("GET", "/pets/dog/1/2", "GET /pets/dog/{rest+}", {"rest": "1/2"}), # longer greedy prefix first
    ("POST", "/pets/dog/1", "ANY /pets/{proxy+}", {"proxy": "dog/1"}),  # the longer one is GET only
    ("GET", "/pets/a%20b", "GET /pets/{petId}", {"petId": "a b"}),      # parameters arrive decoded
    ("GET", "/pets/a%2Fb", "GET /pets/{petId}", {"petId": "a/b"}),      # an encoded / stays in its segment
    ("GET", "/things", "GET /things", {}),                              # a named method beats ANY
    ("PATCH", "/things", "ANY /things", {}),
    ("GET", "/", "$default", {}),
    ("GET", "/Pets", "$default", {}),                                   # paths are case-sensitive
]


@pytest.fixture(scope="module")
def table():
    with Lab(seed=0) as lab:
        fn = lab.function("f", lambda event, context: None)
        yield ag.RouteTable({key: fn for key in reversed(ROUTES)}, "http")


@pytest.mark.parametrize("method, path, key, params", CASES)
def test_most_specific_route_wins(table, method, path, key, params):
    route, found = table.match(method, path)
    assert (route.key, found) == (key, params)


def test_without_default_nothing_matches(lab):
    fn = lab.function("f", lambda event, context: {"statusCode": 200, "body": "ok"})
    table = ag.RouteTable({"GET /pets": fn}, "http")
    assert table.match("POST", "/pets") is None and table.match("GET", "/other") is None


def test_an_unmatched_request_gets_each_apis_answer(lab):
    fn = lab.function("f", lambda event, context: {"statusCode": 200, "body": "ok"})
    http = ag.http_api(lab, {"GET /pets": fn})
    rest = ag.rest_api(lab, {"GET /pets": fn})
    missing_http, missing_rest = http.post("/pets"), rest.get("/cats")
    assert (missing_http.status, missing_http.body) == (404, b'{"message":"Not Found"}')
    assert (missing_rest.status, missing_rest.body) == (403, b'{"message":"Missing Authentication Token"}')
    assert rest.get("/pets").status == 200
    assert len(lab.log) == 1 and len(lab.outcomes()) == 1  # no function, no invocation, no ledger row
    assert list(http.requests()["status"]) == [404] and list(rest.requests()["status"]) == [403, 200]


def test_a_re_registered_function_takes_over_its_routes(lab):
    lab.function("f", lambda event, context: "old")
    api = ag.http_api(lab, {"GET /x": lab.runtime.functions["f"]})
    lab.function("f", lambda event, context: "new")
    assert api.get("/x").text == "new"


@pytest.mark.parametrize("key, rule", [
    ("GET pets", "must start with '/'"),
    ("get /pets", "upper case"),
    ("FETCH /pets", "must be one of ANY, DELETE"),
    ("GET  /pets", "one space"),
    ("/pets", "one space"),
    ("GET /pets/", "trailing '/'"),
    ("GET /pets//toys", "empty segment"),
    ("GET /pets/x{id}", "whole segment"),
    ("GET /pets/{id}/{id}", "used twice"),
    ("GET /{proxy+}/toys", "must be at the end"),
])
def test_invalid_route_keys_are_refused_with_the_rule(lab, key, rule):
    fn = lab.function("f", lambda event, context: None)
    with pytest.raises(ConfigurationError, match=rule) as err:
        ag.http_api(lab, {key: fn})
    assert "https://docs.aws.amazon.com/apigateway/" in str(err.value)


def test_rest_specific_rules(lab):
    fn = lab.function("f", lambda event, context: None)
    with pytest.raises(ConfigurationError, match=r"REST APIs have no \$default.*ANY /\{proxy\+\}"):
        ag.rest_api(lab, {"$default": fn})
    with pytest.raises(ConfigurationError, match=r"A sibling \(\{id\}\) of this resource already has a variable "
                                                 r"path part -- only one is allowed"):
        ag.rest_api(lab, {"GET /users/{id}": fn, "GET /users/{userId}/orders": fn})
    ag.http_api(lab, {"GET /users/{id}": fn, "GET /users/{userId}/orders": fn})  # an HTTP API allows it


def test_routes_that_cannot_be_told_apart_are_refused(lab):
    fn = lab.function("f", lambda event, context: None)
    with pytest.raises(ConfigurationError, match="match the same requests"):
        ag.http_api(lab, {"GET /a/{x}": fn, "GET /a/{y}": fn})


@pytest.mark.parametrize("routes", [{}, {"GET /x": "not a function"}, ["GET /x"]])
def test_routes_must_map_keys_to_functions(lab, routes):
    with pytest.raises(ConfigurationError):
        ag.http_api(lab, routes)


def test_functions_must_come_from_this_lab(lab):
    with Lab(seed=1) as other:
        stranger = other.function("f", lambda event, context: None)
        with pytest.raises(ConfigurationError, match="this lab"):
            ag.http_api(lab, {"GET /x": stranger})


@pytest.mark.parametrize("make, options, rule", [
    ("http", {"timeout_ms": 30_001}, r"TimeoutInMillis\) must be 50-30,000"),
    ("http", {"timeout_ms": 49}, "50-30,000"),
    ("http", {"payload_format_version": "3.0"}, "payloadFormatVersion must be '1.0' or '2.0'"),
    ("http", {"stage": "bad stage"}, r"'\$default' or 1-128 letters"),
    ("http", {"throttle_burst": -1}, "throttle_burst must be a whole number"),
    ("http", {"throttle_burst": 5_001}, "0-5,000"),
    ("http", {"throttle_rate_per_s": 20_000}, "0-10,000"),
    ("rest", {"timeout_ms": 29_001}, "only for Regional and private REST APIs"),
    ("rest", {"timeout_ms": 60_000, "endpoint_type": "EDGE"}, "edge-optimized API stays at 50-29,000 ms"),
    ("rest", {"endpoint_type": "GLOBAL"}, "EDGE, REGIONAL, PRIVATE"),
    ("rest", {"stage": "$default"}, "1-128 letters"),
    ("rest", {"binary_media_types": ["png"]}, "media types such as 'image/png'"),
])
def test_settings_aws_refuses_are_refused(lab, make, options, rule):
    fn = lab.function("f", lambda event, context: None)
    factory = ag.http_api if make == "http" else ag.rest_api
    with pytest.raises(ConfigurationError, match=rule):
        factory(lab, {"GET /x": fn}, **options)


def test_regional_and_private_rest_apis_may_wait_longer(lab):
    fn = lab.function("f", lambda event, context: None)
    for endpoint in ("REGIONAL", "PRIVATE"):
        assert ag.rest_api(lab, {"GET /x": fn}, timeout_ms=120_000, endpoint_type=endpoint).timeout_ms == 120_000


def test_defaults_are_awss(lab):
    fn = lab.function("f", lambda event, context: None)
    http, rest = ag.http_api(lab, {"GET /x": fn}), ag.rest_api(lab, {"GET /x": fn})
    assert (http.timeout_ms, http.stage, http.payload_format_version) == (30_000, "$default", "2.0")
    assert (rest.timeout_ms, rest.stage, rest.endpoint_type, rest.payload_format_version) == (29_000, "prod", "EDGE",
                                                                                               "1.0")
    assert (http.throttle_rate_per_s, http.throttle_burst) == (10_000, 5_000)
    assert http.id != rest.id and len(http.id) == 10 and http.pending() is False
    assert rest.invoke_url == f"https://{rest.id}.execute-api.us-east-1.amazonaws.com/prod"
    assert api_ids(seed=0) == api_ids(seed=0) != api_ids(seed=1)  # seeded: same lab, same ids


def api_ids(seed: int) -> list[str]:
    with Lab(seed=seed) as lab:
        fn = lab.function("f", lambda event, context: None)
        return [ag.http_api(lab, {"GET /x": fn}).id for _ in range(2)]
