"""API Gateway events against AWS's samples (payload 1.0 and 2.0), and every response rule."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest

from lambda_lab import Lab
from lambda_lab.events import apigateway as events
from lambda_lab.sources import apigateway as ag
from shapes import shape

SAMPLES = Path(__file__).parent / "data" / "aws-sample-events"
V2_SAMPLES = ["aws-docs/apigw-dg_http-api-payload-v2.0-event.json", "sam-cli/apigateway-http-api-proxy.json",
              "powertools-python/apiGatewayProxyV2Event.json"]
REST_SAMPLES = ["aws-docs/apigw-dg_rest-api-proxy-event.json"]
HTTP_V1_SAMPLES = ["aws-docs/apigw-dg_http-api-payload-v1.0-event.json", "powertools-python/apiGatewayProxyEvent.json"]
#: Maps whose keys are the request's data, not the format's: compared by value type only.
DATA_MAPS = ("headers", "multiValueHeaders", "queryStringParameters", "multiValueQueryStringParameters",
             "pathParameters", "stageVariables")
#: Sample fields the lab leaves out, and why (events module docstring, "does not reproduce").
NOT_REPRODUCED = {
    "requestContext.authorizer": "the samples' APIs have a JWT authorizer; the lab has no authorizers",
    "requestContext.authentication": "mutual TLS (clientCert); the lab has none",
    "requestContext.identity.clientCert": "mutual TLS; the lab has none",
}
#: In 2.0 only: a field with nothing to carry is left out (1.0 sends null instead).
V2_LEFT_OUT = ("stageVariables",)
QUERY = "parameter1=value1&parameter1=value2&parameter2=value"
HEADERS = [("Header1", "value1"), ("Header2", "value1"), ("Header2", "value2"), ("User-Agent", "agent")]


def sample(path: str) -> dict:
    return json.loads((SAMPLES / path).read_text())


def skeleton(event: dict) -> dict:
    """``shape`` with data-keyed maps reduced to the types of their values."""
    out = shape(event)
    for key in DATA_MAPS:
        if isinstance(event.get(key), dict):
            out[key] = sorted({repr(shape(v)) for v in event[key].values()})
    return out


def without(event: dict, *paths: str) -> dict:
    event = copy.deepcopy(event)
    for path in paths:
        *parents, last = path.split(".")
        node = event
        for part in parents:
            node = node.get(part, {})
        node.pop(last, None)
    return event


def capture(api_factory, route: str, request, **options) -> dict:
    """The event a function behind a fresh API receives for ``request(api)``."""
    seen = []
    with Lab(seed=0) as lab:
        fn = lab.function("echo", lambda event, context: seen.append(event) or {"statusCode": 200, "body": "ok"})
        api = api_factory(lab, {route: fn}, **options)
        response = request(api)
    assert response.status == 200, response
    return seen[0]


@pytest.fixture(scope="module")
def v2():
    """POST /my/value1?... on an HTTP API: the docs sample's request."""
    return capture(ag.http_api, "POST /my/{parameter1}", lambda api: api.post(
        f"/my/value1?{QUERY}", headers=[*HEADERS, ("Cookie", "cookie1; cookie2"), ("Content-Type", "text/plain")],
        body="Hello from Lambda"))


@pytest.fixture(scope="module")
def rest():
    """GET /prod/my/path?... on a REST API's stage prod, with a body, as the docs sample has one."""
    return capture(ag.rest_api, "GET /my/path", lambda api: api.get(
        f"/my/path?{QUERY}", headers=[*HEADERS, ("Content-Type", "text/plain")], body="Hello from Lambda!"))


# --- payload 2.0 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("path", V2_SAMPLES)
def test_v2_event_has_the_samples_shape(v2, path):
    assert skeleton(v2) == skeleton(without(sample(path), *NOT_REPRODUCED, *V2_LEFT_OUT))


def test_v2_get_leaves_out_what_it_has_not():
    event = capture(ag.http_api, "$default", lambda api: api.get("/"))
    reference = sample("aws-lambda-go/apigw-v2-request-no-authorizer.json")
    assert skeleton(event) == skeleton(without(reference, "requestContext.authentication"))
    assert not {"cookies", "queryStringParameters", "body", "pathParameters"} & set(event)
    assert event["headers"]["content-length"] == "0" and event["rawQueryString"] == ""


def test_v2_values(v2):
    assert (v2["version"], v2["routeKey"], v2["rawPath"]) == ("2.0", "POST /my/{parameter1}", "/my/value1")
    assert v2["headers"]["header2"] == "value1,value2" and v2["headers"]["header1"] == "value1"
    assert all(name == name.lower() for name in v2["headers"])
    assert v2["cookies"] == ["cookie1", "cookie2"] and "cookie" not in v2["headers"]
    assert v2["rawQueryString"] == QUERY
    assert v2["queryStringParameters"] == {"parameter1": "value1,value2", "parameter2": "value"}
    assert v2["pathParameters"] == {"parameter1": "value1"}
    assert (v2["body"], v2["isBase64Encoded"]) == ("Hello from Lambda", False)
    context = v2["requestContext"]
    assert context["http"] == {"method": "POST", "path": "/my/value1", "protocol": "HTTP/1.1",
                               "sourceIp": "127.0.0.1", "userAgent": "agent"}
    assert (context["routeKey"], context["stage"], context["accountId"]) == ("POST /my/{parameter1}", "$default",
                                                                            "123456789012")
    assert (context["timeEpoch"], context["time"]) == (1_704_067_200_000, "01/Jan/2024:00:00:00 +0000")
    assert context["domainName"] == f"{context['apiId']}.execute-api.us-east-1.amazonaws.com"
    assert v2["headers"]["host"] == context["domainName"]  # the API's host, not the client's
    assert v2["headers"]["x-forwarded-proto"] == "https" and v2["headers"]["x-amzn-trace-id"].startswith("Root=1-")
    assert len(context["requestId"]) == 16 and context["requestId"].endswith("=")


def test_v2_query_is_decoded_but_raw_query_is_not():
    event = capture(ag.http_api, "GET /q", lambda api: api.get("/q?name=a%20b&flag&x=1%2C2"))
    assert event["rawQueryString"] == "name=a%20b&flag&x=1%2C2"
    assert event["queryStringParameters"] == {"name": "a b", "flag": "", "x": "1,2"}


def test_a_named_stage_is_part_of_raw_path():
    event = capture(ag.http_api, "GET /users/{id}", lambda api: api.get("/users/7"), stage="beta")
    assert event["rawPath"] == "/beta/users/7" and event["requestContext"]["stage"] == "beta"
    assert event["pathParameters"] == {"id": "7"}


# --- payload 1.0 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("path", REST_SAMPLES)
def test_rest_event_has_the_samples_shape(rest, path):
    reference = without(sample(path), *NOT_REPRODUCED)
    reference["requestContext"]["resourceId"] = "abc123"  # null in the doc block; a REST resource has an id
    assert skeleton(rest) == skeleton(reference)


def test_rest_event_has_every_field_of_the_sam_template(rest):
    template = sample("sam-cli/apigateway-aws-proxy.json")
    assert set(template) <= set(rest)
    assert set(template["requestContext"]) <= set(rest["requestContext"])
    assert set(template["requestContext"]["identity"]) <= set(rest["requestContext"]["identity"])


@pytest.mark.parametrize("path", HTTP_V1_SAMPLES)
def test_http_api_payload_1_0_has_the_samples_shape(path):
    event = capture(ag.http_api, "GET /my/path", lambda api: api.get(
        f"/my/path?{QUERY}", headers=[*HEADERS, ("Content-Type", "text/plain")], body="Hello from Lambda!"),
        payload_format_version="1.0")
    reference = without(sample(path), *NOT_REPRODUCED)
    reference["requestContext"]["resourceId"] = "abc123"
    assert skeleton(event) == skeleton(reference)
    assert event["version"] == "1.0" and event["requestContext"]["stage"] == "$default"


def test_rest_values(rest):
    assert (rest["resource"], rest["path"], rest["httpMethod"]) == ("/my/path", "/my/path", "GET")
    context = rest["requestContext"]
    assert (context["path"], context["stage"], context["resourcePath"]) == ("/prod/my/path", "prod", "/my/path")
    assert context["httpMethod"] == "GET" and context["requestTimeEpoch"] == 1_704_067_200_000
    assert context["requestTime"] == "01/Jan/2024:00:00:00 +0000"
    assert len(context["requestId"]) == 36 and context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"] == "agent"
    assert rest["headers"]["Header2"] == "value2"  # the last value; the client's spelling kept
    assert rest["multiValueHeaders"]["Header2"] == ["value1", "value2"]
    assert rest["queryStringParameters"] == {"parameter1": "value2", "parameter2": "value"}
    assert rest["multiValueQueryStringParameters"] == {"parameter1": ["value1", "value2"], "parameter2": ["value"]}
    assert (rest["pathParameters"], rest["stageVariables"]) == (None, None)
    assert (rest["body"], rest["isBase64Encoded"]) == ("Hello from Lambda!", False)


def test_rest_nulls_and_greedy_path_parameters():
    event = capture(ag.rest_api, "ANY /{proxy+}", lambda api: api.delete("/a/b%20c"))
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/{proxy+}", "/a/b c", "DELETE")
    assert event["pathParameters"] == {"proxy": "a/b c"} and event["requestContext"]["path"] == "/prod/a/b%20c"
    assert event["queryStringParameters"] is None and event["multiValueQueryStringParameters"] is None
    assert event["body"] is None and event["isBase64Encoded"] is False


def test_header_spelling_differs_between_formats():
    sent = [("X-Custom-Header", "a"), ("x-custom-header", "b")]
    rest = capture(ag.rest_api, "GET /h", lambda api: api.get("/h", headers=sent))
    http = capture(ag.http_api, "GET /h", lambda api: api.get("/h", headers=sent))
    assert rest["multiValueHeaders"]["X-Custom-Header"] == ["a", "b"] and rest["headers"]["X-Custom-Header"] == "b"
    assert http["headers"]["x-custom-header"] == "a,b"


# --- binary bodies -------------------------------------------------------------------------------
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


@pytest.mark.parametrize("content_type, encoded", [
    ("application/octet-stream", True), ("image/png", True), ("application/x-www-form-urlencoded", True),
    ("application/json", False), ("text/plain; charset=utf-8", False), ("application/vnd.api+json", False),
])
def test_http_api_base64_encodes_what_is_not_text(content_type, encoded):
    body = PNG if encoded else b'{"a": 1}'
    event = capture(ag.http_api, "POST /up", lambda api: api.post("/up", body=body,
                                                                   headers={"Content-Type": content_type}))
    assert event["isBase64Encoded"] is encoded
    assert (base64.b64decode(event["body"]) if encoded else event["body"].encode()) == body


def test_rest_api_base64_encodes_only_its_binary_media_types():
    send = lambda api: api.post("/up", body=PNG, headers={"Content-Type": "image/png"})  # noqa: E731
    binary = capture(ag.rest_api, "POST /up", send, binary_media_types=["image/*"])
    text = capture(ag.rest_api, "POST /up", send)
    assert binary["isBase64Encoded"] is True and base64.b64decode(binary["body"]) == PNG
    assert text["isBase64Encoded"] is False and text["body"] == PNG.decode("utf-8", errors="replace")


# --- the seed's handler: the payload format is the lesson ----------------------------------------
def seed_style_handler(event, context):
    method = event["requestContext"]["http"]["method"]
    return {"statusCode": 200, "body": json.dumps({"method": method})}


def test_a_v2_handler_works_behind_an_http_api_and_fails_behind_a_rest_api(lab):
    fn = lab.function("seed", seed_style_handler)
    http, rest = ag.http_api(lab, {"ANY /{proxy+}": fn}), ag.rest_api(lab, {"ANY /{proxy+}": fn})
    assert http.get("/orders").json() == {"method": "GET"}
    failed = rest.get("/orders")
    assert (failed.status, failed.json()) == (502, {"message": "Internal server error"})
    assert lab.log.records[-1].error_type == "KeyError"
    assert "customer function error: 'http'" in rest.log()


# --- sample_event ---------------------------------------------------------------------------------
@pytest.mark.parametrize("path", V2_SAMPLES)
def test_sample_event_v2_has_the_samples_shape(path):
    assert skeleton(events.sample_event("2.0")) == skeleton(without(sample(path), *NOT_REPRODUCED, *V2_LEFT_OUT,
                                                                                  "pathParameters"))


@pytest.mark.parametrize("path", REST_SAMPLES)
def test_sample_event_v1_has_the_samples_shape(path):
    reference = without(sample(path), *NOT_REPRODUCED)
    reference["requestContext"]["resourceId"] = "abc123"
    reference["body"] = None  # the sample is a GET with a body; the lab's sample GET has none
    assert skeleton(events.sample_event("1.0")) == skeleton(reference)


def test_sample_events_repeat_and_show_their_display_fields():
    assert events.sample_event() == events.sample_event("2.0") == events.sample_event("2.0")
    assert events.sample_event("1.0") == events.sample_event("1.0")
    with pytest.raises(ValueError, match="1.0"):
        events.sample_event("3.0")
    present = {path for version in ("1.0", "2.0") for path in events.DISPLAY_FIELDS
               if _get(events.sample_event(version), path) is not None}
    assert present == set(events.DISPLAY_FIELDS) - {"pathParameters"}  # samples have no path variables


def _get(event: dict, path: str):
    for part in path.split("."):
        if not isinstance(event, dict) or part not in event:
            return None
        event = event[part]
    return event


# --- response rules -------------------------------------------------------------------------------
def test_v2_infers_a_response_from_plain_json_as_the_docs_table_says():
    for case in sample("aws-docs/apigw-dg_http-api-v2-response-inference.json")["cases"]:
        reply = ag.v2_response(case["lambda_function_output"])
        expected = case["api_gateway_interpretation"]
        assert reply.status == expected["statusCode"]
        assert reply.headers == [("content-type", "application/json")]
        body = reply.body.decode()
        if isinstance(case["lambda_function_output"], str):
            assert body == expected["body"]
        else:
            assert json.loads(body) == json.loads(expected["body"])  # the docs pad the braces with spaces


@pytest.mark.parametrize("result, body", [([1, 2], b"[1, 2]"), (42, b"42"), (None, b"null"), (True, b"true")])
def test_v2_infers_any_json(result, body):
    assert (ag.v2_response(result).status, ag.v2_response(result).body) == (200, body)


def test_v2_explicit_form_cookies_and_base64():
    reply = ag.v2_response({"statusCode": 201, "headers": {"x-a": "1"}, "cookies": ["a=1; Secure", "b=2"],
                            "body": base64.b64encode(PNG).decode(), "isBase64Encoded": True})
    assert reply.status == 201 and reply.body == PNG
    assert reply.headers == [("x-a", "1"), ("set-cookie", "a=1; Secure"), ("set-cookie", "b=2")]


def test_v1_accepts_the_proxy_shape_and_merges_multi_value_headers():
    reply = ag.v1_response(sample("aws-lambda-go/apigw-response.json"))
    assert reply.status == 200 and reply.body == b"Hello World"
    merged = ag.v1_response({"statusCode": 200, "body": "", "headers": {"X-A": "single", "X-B": "b"},
                             "multiValueHeaders": {"x-a": ["one", "two"]}})
    assert merged.headers == [("x-a", "one"), ("x-a", "two"), ("X-B", "b")]  # the multi value wins
    assert ag.v1_response({"statusCode": "404"}).status == 404  # a numeric string, as AWS's blueprints send


@pytest.mark.parametrize("result, why", [
    ({"message": "Hello from Lambda!"}, "unexpected field"),              # fine on 2.0, a 502 on REST
    ({"statusCode": 200, "body": {"a": 1}}, "body must be a string"),
    ({"body": "x"}, "statusCode is missing"),
    ("Hello", "must be a JSON object"),
    ({"statusCode": 200, "body": "x", "ok": True}, "unexpected field"),
    ({"statusCode": 700}, "HTTP status"),
    ({"statusCode": True}, "HTTP status"),
    ({"statusCode": 200, "headers": ["x"]}, "headers must be an object"),
    ({"statusCode": 200, "headers": {"x": {"y": 1}}}, "header value"),
    ({"statusCode": 200, "multiValueHeaders": {"x": "y"}}, "must be a list"),
    ({"statusCode": 200, "isBase64Encoded": "yes"}, "isBase64Encoded must be true or false"),
])
def test_v1_refuses_anything_but_the_proxy_shape(result, why):
    with pytest.raises(ag.Malformed, match=why):
        ag.v1_response(result)


@pytest.mark.parametrize("result", [
    {"statusCode": 200, "body": {"a": 1}}, {"statusCode": 200, "cookies": "a=1"}, {"statusCode": "abc"},
])
def test_v2_refuses_a_broken_explicit_form(result):
    with pytest.raises(ag.Malformed):
        ag.v2_response(result)


def test_malformed_responses_through_each_api(lab):
    plain = lab.function("plain", lambda event, context: {"message": "Hello from Lambda!"})
    dict_body = lab.function("dict_body", lambda event, context: {"statusCode": 200, "body": {"a": 1}})
    http = ag.http_api(lab, {"GET /plain": plain, "GET /dict": dict_body})
    rest = ag.rest_api(lab, {"GET /plain": plain, "GET /dict": dict_body})
    assert (http.get("/plain").status, http.get("/plain").json()) == (200, {"message": "Hello from Lambda!"})
    assert (http.get("/dict").status, http.get("/dict").body) == (500, b'{"message":"Internal Server Error"}')
    for path in ("/plain", "/dict"):
        assert (rest.get(path).status, rest.get(path).body) == (502, b'{"message": "Internal server error"}')
    assert rest.log().count("Execution failed due to configuration error: Malformed Lambda proxy response") == 4
    frame = lab.outcomes(source="apigateway")
    assert (frame["where"] == "HTTP 502: Malformed Lambda proxy response").sum() == 4
    assert set(lab.log.to_frame()["outcome"]) == {"success"}  # the function succeeded every time


def test_response_headers_the_client_gets(lab):
    fn = lab.function("h", lambda event, context: {
        "statusCode": 200, "body": "<p>hi</p>", "headers": {"Content-Type": "text/html", "Date": "yesterday",
                                                            "Content-Length": "999", "Connection": "close"}})
    bare = lab.function("bare", lambda event, context: {"statusCode": 204})
    rest = ag.rest_api(lab, {"GET /h": fn, "GET /bare": bare})
    response = rest.get("/h")
    assert response.header("content-type") == "text/html" and response.header("x-amzn-Remapped-Date") == "yesterday"
    assert response.header("content-length") == "9" and response.header("connection") is None
    assert response.header("x-amzn-RequestId") == response.request_id and response.header("x-amz-apigw-id")
    assert response.header("date") == "Mon, 01 Jan 2024 00:00:00 GMT"  # the virtual clock's
    empty = rest.get("/bare")
    assert (empty.status, empty.body, empty.header("content-type")) == (204, b"", "application/json")


def test_rest_returns_base64_bodies_decoded_only_for_binary_accept(lab):
    fn = lab.function("img", lambda event, context: {"statusCode": 200, "isBase64Encoded": True,
                                                     "headers": {"Content-Type": "image/png"},
                                                     "body": base64.b64encode(PNG).decode()})
    rest = ag.rest_api(lab, {"GET /img": fn}, binary_media_types=["image/png"])
    assert rest.get("/img", headers={"Accept": "image/png"}).body == PNG
    assert rest.get("/img", headers={"Accept": "text/html, image/png"}).body == base64.b64encode(PNG)
    http = ag.http_api(lab, {"GET /img": fn})
    assert http.get("/img").body == PNG


def test_an_undecodable_base64_body_is_a_server_error(lab):
    fn = lab.function("img", lambda event, context: {"statusCode": 200, "isBase64Encoded": True, "body": "%%%"})
    http = ag.http_api(lab, {"GET /img": fn})
    rest = ag.rest_api(lab, {"GET /img": fn}, binary_media_types=["*/*"])
    assert http.get("/img").status == 500 and rest.get("/img", headers={"Accept": "image/png"}).status == 500
