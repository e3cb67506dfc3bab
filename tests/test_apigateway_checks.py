"""Chapter 05's exercise checks: the starter fails with a hint, the solution passes, plausible wrong answers fail.

One lab serves the module (each check makes a fresh function and fresh APIs, and removes the APIs).
"""

from __future__ import annotations

import json

import pytest

from lambda_lab import Lab
from lambda_lab.check import apigateway as check
from lambda_lab.sources.apigateway import Api
from verdicts import assert_not_yet


@pytest.fixture(scope="module")
def lab():
    with Lab(seed=0) as shared:
        yield shared


# --------------------------------------------------------------------------- Exercise 1
def starter_1(event, context):
    ...  # your code here


def solution_1(event, context):
    if "httpMethod" in event:  # payload 1.0 (REST API)
        method = event["httpMethod"]
    else:  # payload 2.0 (HTTP API)
        method = event["requestContext"]["http"]["method"]
    user = event["pathParameters"]["userId"]
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"method": method, "user": user})}


def by_version(event, context):  # correct too: branch on the format's version (a REST event has none)
    v2 = event.get("version") == "2.0"
    method = event["requestContext"]["http"]["method"] if v2 else event["httpMethod"]
    return {"statusCode": "200", "headers": {"Content-Type": "application/json; charset=utf-8"},
            "body": json.dumps({"user": event["pathParameters"]["userId"], "method": method})}


def seed_handler(event, context):  # the chapter's seed: payload 2.0 only
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"method": event["requestContext"]["http"]["method"],
                                "user": event["pathParameters"]["userId"]})}


def http_method_only(event, context):  # payload 1.0 only
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"method": event["httpMethod"], "user": event["pathParameters"]["userId"]})}


def _method(event):
    return event.get("httpMethod") or event["requestContext"]["http"]["method"]


def body_dict(event, context):  # forgot json.dumps
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": {"method": _method(event), "user": event["pathParameters"]["userId"]}}


def bare_dict(event, context):  # 2.0's inferred response: fine behind an HTTP API only
    return {"method": _method(event), "user": event["pathParameters"]["userId"]}


def raw_path_user(event, context):  # the last segment of the path as sent, not the path parameter
    path = event.get("rawPath") or event["requestContext"]["path"]
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"method": _method(event), "user": path.rsplit("/", 1)[-1]})}


def always_get(event, context):  # a fixed method
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"method": "GET", "user": event["pathParameters"]["userId"]})}


def text_plain(event, context):
    return {"statusCode": 200, "headers": {"content-type": "text/plain"},
            "body": json.dumps({"method": _method(event), "user": event["pathParameters"]["userId"]})}


def test_ex1_starter_fails_with_a_hint(lab):
    assert_not_yet(check.both_formats(lab, starter_1), "returned None")


def test_ex1_solution_passes_twice(lab):
    for _ in range(2):
        verdict = check.both_formats(lab, solution_1)
        assert verdict, repr(verdict)
    assert repr(verdict) == "✓ Exercise 1 (one handler behind both API types): correct"


def test_ex1_other_correct_answers_pass(lab):
    verdict = check.both_formats(lab, by_version)
    assert verdict, repr(verdict)
    verdict = check.both_formats(lab, lab.function("ex1-learner", solution_1))  # the function, not its handler
    assert verdict, repr(verdict)


@pytest.mark.parametrize("wrong, hints", [
    (seed_handler, ["behind the REST API (payload 1.0)", "KeyError: 'http'", "a REST API sends payload 1.0: the "
                    "method is event['httpMethod']"]),
    (http_method_only, ["behind the HTTP API (payload 2.0)", "KeyError: 'httpMethod'", "the client got a 500",
                        "event['requestContext']['http']['method']"]),
    (body_dict, ["Malformed Lambda proxy response", "the body is a dict, not a string", "json.dumps"]),
    (bare_dict, ["behind the REST API (payload 1.0)", "payload 1.0 requires statusCode and a string body",
                 "502"]),
    (raw_path_user, ["still URL-encoded", "event['pathParameters']['userId']"]),
    (always_get, ["for a DELETE request the body's method was 'GET'"]),
    (text_plain, ["the content-type is 'text/plain'"]),
])
def test_ex1_wrong_answers_fail(lab, wrong, hints):
    assert_not_yet(check.both_formats(lab, wrong), *hints)


def test_ex1_seed_passes_behind_the_http_api(lab):
    text = repr(check.both_formats(lab, seed_handler))
    assert "behind the HTTP API" not in text and text.count("\n  - ") == 1, text


def test_ex1_not_a_function(lab):
    assert_not_yet(check.both_formats(lab, "handler"), "expected a function")


def test_ex1_leaves_no_api(lab):
    before = list(lab.sources)
    check.both_formats(lab, solution_1)
    assert lab.sources == before and not any(isinstance(s, Api) for s in lab.sources)


# --------------------------------------------------------------------------- Exercise 2
def starter_2(event, context):
    ...  # your code here


def solution_2(event, context):
    order_id = json.loads(event["body"])["id"]
    return {"statusCode": 201, "headers": {"Location": f"/orders/{order_id}", "content-type": "application/json"},
            "multiValueHeaders": {"Set-Cookie": [f"session={order_id}; Path=/; HttpOnly", "theme=dark"]},
            "body": json.dumps({"id": order_id})}


def one_cookie_header(event, context):  # a dict holds one Set-Cookie
    order_id = json.loads(event["body"])["id"]
    return {"statusCode": 201, "headers": {"Location": f"/orders/{order_id}", "Set-Cookie": f"session={order_id}"},
            "body": ""}


def cookie_list_in_headers(event, context):  # a list where a header takes one value
    order_id = json.loads(event["body"])["id"]
    return {"statusCode": 201, "headers": {"Location": f"/orders/{order_id}",
                                           "Set-Cookie": [f"session={order_id}", "theme=dark"]}, "body": ""}


def cookies_joined(event, context):  # both cookies in one header
    order_id = json.loads(event["body"])["id"]
    return {"statusCode": 201, "headers": {"Location": f"/orders/{order_id}",
                                           "Set-Cookie": f"session={order_id}, theme=dark"}, "body": ""}


def cookies_field(event, context):  # payload 2.0's cookies, behind a REST API
    order_id = json.loads(event["body"])["id"]
    return {"statusCode": 201, "headers": {"Location": f"/orders/{order_id}"},
            "cookies": [f"session={order_id}", "theme=dark"], "body": ""}


def status_200(event, context):
    response = solution_2(event, context)
    return {**response, "statusCode": 200}


def no_location(event, context):
    response = solution_2(event, context)
    return {**response, "headers": {"content-type": "application/json"}}


def fixed_location(event, context):  # the id is not the request's
    response = solution_2(event, context)
    return {**response, "headers": {"Location": f"/orders/{context.aws_request_id}"}}


def body_not_string(event, context):
    response = solution_2(event, context)
    return {**response, "body": {"id": json.loads(event["body"])["id"]}}


def body_not_parsed(event, context):  # event['body'] read as a dict
    order_id = event["body"]["id"]
    return solution_2({"body": json.dumps({"id": order_id})}, context)


def test_ex2_starter_fails_with_a_hint(lab):
    assert_not_yet(check.cookies_and_location(lab, starter_2), "returned None")


def test_ex2_solution_passes_twice(lab):
    for _ in range(2):
        verdict = check.cookies_and_location(lab, solution_2)
        assert verdict, repr(verdict)
    assert repr(verdict) == "✓ Exercise 2 (a 201 with a Location header and two cookies, behind a REST API): correct"


@pytest.mark.parametrize("wrong, hints", [
    (one_cookie_header, ["one Set-Cookie header", "multiValueHeaders={'Set-Cookie'"]),
    (cookie_list_in_headers, ["headers['Set-Cookie'] is a list", "multiValueHeaders", "502"]),
    (cookies_joined, ["joined with a comma", "multiValueHeaders"]),
    (cookies_field, ["'cookies' is a field of the payload 2.0 response", "Malformed Lambda proxy response", "502",
                     "multiValueHeaders"]),
    (status_200, ["the status is 200", "201 Created"]),
    (no_location, ["no Location header"]),
    (fixed_location, ["the Location was", "json.loads(event['body'])['id']"]),
    (body_not_string, ["the body is a dict, not a string", "502"]),
    (body_not_parsed, ["TypeError", "json.loads(event['body'])['id']"]),
])
def test_ex2_wrong_answers_fail(lab, wrong, hints):
    verdict = check.cookies_and_location(lab, wrong)
    assert_not_yet(verdict, *hints)
    assert repr(verdict).count("\n  - ") == 1, repr(verdict)  # one mistake, one line (both posts agree)


def test_ex2_not_a_function(lab):
    assert_not_yet(check.cookies_and_location(lab, None), "expected a function")


def test_ex2_leaves_no_api(lab):
    before = list(lab.sources)
    check.cookies_and_location(lab, solution_2)
    assert lab.sources == before
