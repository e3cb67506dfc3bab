"""Exercise checks for chapter 05_api_gateway.

Each check sets up its own scenario in the learner's lab, with fresh names and ids drawn at
random, so only behaviour passes, never a typed-in value. Both register the learner's handler
as a fresh function, put a fresh API in front of it, send requests through the API's
in-notebook client and compare what the client sees; the function's own record in
``lab.log`` (an exception, or the value it returned) says why when the client got an error.
The APIs are removed from ``lab.sources`` afterwards.

- ``both_formats``: one REST API (payload 1.0) and one HTTP API (payload 2.0), each with
  ``GET`` and ``DELETE /users/{userId}``; three requests to each, one user id with a
  URL-encoded space (``/users/ada%20xxxx`` is user ``"ada xxxx"``). Every answer must be 200,
  ``content-type: application/json``, and the JSON ``{"method": <the method>, "user": <the
  userId path parameter>}``.
- ``provisioned_size``: plays a day of checkout bursts (``EX3_BURSTS``) over real HTTP, the
  customers of a burst in parallel, against a fresh function with the learner's provisioned
  concurrency, then with one less: right when the first day has no cold start and the second one.
- ``cookies_and_location``: a REST API (stage ``prod``) with ``POST /orders``; two posts of
  ``{"id": <random>}``. Each answer must be 201 with ``Location: /orders/<id>`` and two
  separate ``Set-Cookie`` headers, ``session=<id>`` and ``theme=dark`` (attributes such as
  ``; Path=/`` allowed), and a string body.

What the hints rest on: a payload 1.0 response has exactly the fields ``statusCode``,
``headers``, ``multiValueHeaders``, ``body`` (a string) and ``isBase64Encoded``
(https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html);
anything else is "Malformed Lambda proxy response", a 502 from a REST API
(https://repost.aws/knowledge-center/malformed-502-api-gateway). ``cookies`` is a field of
the 2.0 response only ("each cookie becomes a set-cookie header",
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html);
returned behind a REST API it makes the response malformed, as users report
(https://github.com/fujiwara/ridge/issues/25, https://github.com/anomalyco/sst/issues/2760)
and as the lab does. A ``headers`` entry carries one value; repeated headers go in
``multiValueHeaders``.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import quote

from . import Problems, Verdict, fresh_name, is_whole_number, report, short

if TYPE_CHECKING:
    from ..lab import Lab
    from ..sources.apigateway import Api, Response

Handler = Callable[[Any, Any], Any]

EX1 = "Exercise 1 (one handler behind both API types)"
EX2 = "Exercise 2 (a 201 with a Location header and two cookies, behind a REST API)"


REST = "the REST API (payload 1.0)"
HTTP = "the HTTP API (payload 2.0)"

_V1_FIELDS = "statusCode, headers, multiValueHeaders, body and isBase64Encoded"


def _as_handler(handler: Any) -> Any:
    """The handler itself, also when the learner passes the function from ``lab.function``."""
    from ..runtime import Function

    return handler.handler if isinstance(handler, Function) else handler


def _remove(lab: "Lab", apis: list["Api"]) -> None:
    """Undo a check's own scenario: stop its APIs (no server runs, but be sure) and forget them."""
    for api in apis:
        api.stop()
        if api in lab.sources:
            lab.sources.remove(api)


def _send(lab: "Lab", api: "Api", name: str, method: str, path: str, **options: Any) -> tuple["Response", Any]:
    """Send one request; return the response and the function's invocation for it (or None)."""
    before = len(lab.log)
    response = api.request(method, path, **options)
    runs = [inv for inv in lab.log.records[before:] if inv.function == name]
    return response, (runs[-1] if runs else None)


def _malformed_why(result: Any, payload: str) -> str | None:
    """Why API Gateway refuses ``result`` as a proxy response in ``payload`` ("1.0"/"2.0"), or None."""
    from ..sources.apigateway import Malformed, v1_response, v2_response

    try:
        if payload == "1.0":
            v1_response(result, decode_base64=False)
        else:
            v2_response(result)
    except Malformed as why:
        return str(why)
    except Exception:  # an invalid base64 body: not one of this chapter's lessons
        return "the body is not valid base64 though isBase64Encoded is true"
    return None


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


# --------------------------------------------------------------------------- Exercise 1
_EX1_RESPONSE = ("{'statusCode': 200, 'headers': {'content-type': 'application/json'}, "
                 "'body': json.dumps({'method': ..., 'user': ...})}")
_EITHER_METHOD = "event.get('httpMethod') or event['requestContext']['http']['method']"


def _ex1_error_hint(inv: Any, payload: str) -> str:
    """What the handler's exception teaches, behind an API sending ``payload``."""
    kind, message = inv.error_type, str(inv.error_message or "")
    key = message.strip("'\"")
    if kind == "KeyError" and payload == "1.0" and key in ("http", "requestContext"):
        return (f"the handler raised KeyError: {message}, so the client got a 502. event['requestContext']['http'] "
                f"exists only in payload 2.0 (an HTTP API's event); a REST API sends payload 1.0: the method is "
                f"event['httpMethod']. Read the one the event has: {_EITHER_METHOD}")
    if kind == "KeyError" and payload == "2.0" and key == "httpMethod":
        return (f"the handler raised KeyError: {message}, so the client got a 500. event['httpMethod'] exists only "
                f"in payload 1.0 (a REST API's event); an HTTP API sends payload 2.0: the method is "
                f"event['requestContext']['http']['method']. Read the one the event has: {_EITHER_METHOD}")
    if kind == "KeyError" and payload == "2.0" and key in ("path", "resource"):
        return (f"the handler raised KeyError: {message}: payload 2.0 has rawPath and routeKey, not path and "
                f"resource. Take the user from event['pathParameters']['userId'], which both formats have "
                f"(URL-decoded)")
    if kind == "KeyError" and payload == "1.0" and key in ("rawPath", "routeKey", "version"):
        return (f"the handler raised KeyError: {message}: payload 1.0 (a REST API's event) has path and resource, "
                f"no rawPath, routeKey or version. Take the user from event['pathParameters']['userId'] and the "
                f"method from {_EITHER_METHOD}")
    if kind == "KeyError":
        return (f"the handler raised KeyError: {message}: that event has no such key. Print the event of each "
                f"format (or lambda_lab.views.show_event) and read only what both have, or branch on the format")
    return f"the handler raised {kind}: {message}"


def _ex1_malformed_hint(result: Any, why: str, payload: str, status: int) -> str:
    if isinstance(result, dict) and "statusCode" not in result and payload == "1.0":
        if {"method", "user"} & set(result):
            return (f"a bare dict without statusCode works behind an HTTP API (payload 2.0 infers a 200 JSON "
                    f"response from it), but payload 1.0 requires statusCode and a string body: the REST API "
                    f"answered {status} (Malformed Lambda proxy response). Return {_EX1_RESPONSE}, which both "
                    f"formats accept")
        return (f"payload 1.0 requires statusCode and a string body; without statusCode the REST API answers "
                f"{status} (Malformed Lambda proxy response). Return {_EX1_RESPONSE}")
    if "body must be a string" in why:
        body = result.get("body") if isinstance(result, dict) else None
        return (f"the body is a {type(body).__name__}, not a string: API Gateway answers "
                f"{status} (Malformed Lambda proxy response). The body must be a string: "
                f"'body': json.dumps({{'method': ..., 'user': ...}})")
    if why.startswith("unexpected field"):
        return (f"{why.split(' (allowed')[0]}: a payload 1.0 response has only {_V1_FIELDS}; anything else makes it "
                f"a Malformed Lambda proxy response ({status})")
    if not isinstance(result, dict):
        return (f"the handler returned a {type(result).__name__} ({short(result, 40)}): payload 1.0 requires an "
                f"object with statusCode and a string body ({status}, Malformed Lambda proxy response). Return "
                f"{_EX1_RESPONSE}")
    return f"API Gateway answered {status}, Malformed Lambda proxy response: {why}"


def _ex1_answer_hints(response: "Response", method: str, user: str) -> list[tuple[str, str]]:
    """What is wrong with a response the client got, as (kind of mistake, hint); empty when it is right."""
    hints = []
    if response.status != 200:
        hints.append(("status", f"the status is {response.status}, expected 200 ('statusCode': 200)"))
    content_type = response.header("content-type")
    if _media_type(content_type) != "application/json":
        hints.append(("content-type", f"the content-type is {content_type!r}: send 'content-type': "
                                      f"'application/json' in headers"))
    try:
        body = response.json()
    except ValueError:
        return [*hints, ("not json", f"the body is not JSON ({short(response.text, 50)}): send "
                                     f"json.dumps({{'method': ..., 'user': ...}})")]
    if body is None:
        return [*hints, ("null", f"the body is null: did the handler return None? Return {_EX1_RESPONSE}")]
    if not isinstance(body, dict) or set(body) != {"method", "user"}:
        return [*hints, ("keys", f"the body must be a JSON object with exactly the keys 'method' and 'user', got "
                                 f"{short(body, 60)}")]
    if body["method"] != method:
        hints.append(("method", f"for a {method} request the body's method was {short(body['method'], 30)}: send "
                                f"the request's method (payload 1.0: event['httpMethod']; 2.0: "
                                f"event['requestContext']['http']['method']), not a fixed one"))
    if body["user"] != user:
        got = body["user"]
        if isinstance(got, str) and got == quote(user):
            hints.append(("encoded", f"the user came back still URL-encoded ({got!r} for {user!r}): you read it from "
                                     f"the path as sent. Read event['pathParameters']['userId']: API Gateway "
                                     f"URL-decodes path parameters, in both formats"))
        else:
            hints.append(("user", f"for /users/{quote(user)} the body's user was {short(got, 40)}, expected "
                                  f"{user!r}: read event['pathParameters']['userId']"))
    return hints


def both_formats(lab: "Lab", handler: Handler) -> Verdict:
    """Exercise 1: ``handler`` answers GET and DELETE /users/{userId} behind a REST API and an HTTP API alike."""
    handler = _as_handler(handler)
    if not callable(handler):
        return report(EX1, [f"expected a function handler(event, context), got {short(handler)}"])
    name = fresh_name(lab, "ex1-api-check")
    fn = lab.function(name, handler)
    routes = {"GET /users/{userId}": fn, "DELETE /users/{userId}": fn}
    apis: list[Any] = []
    problems = Problems("behind ")
    try:
        apis.append(lab.rest_api(routes))
        apis.append(lab.http_api(routes))
        for api, label, payload in ((apis[0], REST, "1.0"), (apis[1], HTTP, "2.0")):
            requests = [("GET", f"u-{secrets.token_hex(3)}"), ("DELETE", f"u-{secrets.token_hex(3)}"),
                        (secrets.choice(("GET", "DELETE")), f"ada {secrets.token_hex(2)}")]
            for method, user in requests:
                response, inv = _send(lab, api, name, method, f"/users/{quote(user)}")
                if inv is None:
                    problems.add(f"a {method} request got {response.status} without invoking the function "
                                 f"({short(response.text, 50)})", label)
                elif inv.outcome != "success":
                    problems.add(_ex1_error_hint(inv, payload), label)
                elif inv.result is None:  # 2.0 would infer a 200 with the body null; 1.0 refuses it
                    problems.add(f"the handler returned None: return the response, {_EX1_RESPONSE}", label)
                else:
                    why = _malformed_why(inv.result, payload)
                    if why is not None:
                        problems.add(_ex1_malformed_hint(inv.result, why, payload, response.status), label)
                    else:
                        for kind, hint in _ex1_answer_hints(response, method, user):
                            problems.add(hint, label, key=kind)
    finally:
        _remove(lab, apis)
    return report(EX1, problems.lines())


# --------------------------------------------------------------------------- Exercise 2
def _ex2_response(order_id: str = "<id>") -> str:
    return ("{'statusCode': 201, 'headers': {'Location': f'/orders/{order_id}'}, "
            "'multiValueHeaders': {'Set-Cookie': [f'session={order_id}', 'theme=dark']}, 'body': ...}")


_MULTI = "multiValueHeaders={'Set-Cookie': [f'session={order_id}', 'theme=dark']}"


def _ex2_error_hint(inv: Any) -> str:
    kind, message = inv.error_type, str(inv.error_message or "")
    key = message.strip("'\"")
    if kind == "TypeError" and ("string indices" in message or "'str' object" in message):
        return (f"the handler raised TypeError: {message}: event['body'] is the request body as a string (the JSON "
                f"the client sent). Parse it: order_id = json.loads(event['body'])['id']")
    if kind == "KeyError" and key in ("http", "requestContext", "rawPath", "cookies", "routeKey"):
        return (f"the handler raised KeyError: {message}: a REST API sends payload 1.0 (event['httpMethod'], "
                f"event['path'], headers with a Cookie header), not payload 2.0's fields")
    if kind == "KeyError" and key == "id":
        return (f"the handler raised KeyError: {message}: the id is inside the request body, a JSON string: "
                f"json.loads(event['body'])['id']")
    return f"the handler raised {kind}: {message}"


def _ex2_malformed_hint(result: Any, why: str, status: int) -> str:
    if result is None:
        return f"the handler returned None (the client got {status}): return {_ex2_response()}"
    if not isinstance(result, dict):
        return (f"the handler returned a {type(result).__name__} ({short(result, 40)}): a REST API (payload 1.0) "
                f"needs an object such as {_ex2_response()} (the client got {status}, Malformed Lambda proxy "
                f"response)")
    if "cookies" in result and why.startswith("unexpected field"):
        return (f"the client got {status}: 'cookies' is a field of the payload 2.0 response (an HTTP API's), where "
                f"each cookie becomes a set-cookie header. A REST API speaks payload 1.0, whose response has only "
                f"{_V1_FIELDS}: any other field makes it a Malformed Lambda proxy response. Send the cookies as "
                f"{_MULTI}")
    if why.startswith("unexpected field"):
        return (f"the client got {status}: {why.split(' (allowed')[0]}: a payload 1.0 response has only {_V1_FIELDS}; "
                f"anything else makes it a Malformed Lambda proxy response")
    headers = result.get("headers")
    if isinstance(headers, dict) and any(isinstance(v, (list, tuple)) for v in headers.values()):
        listed = next(k for k, v in headers.items() if isinstance(v, (list, tuple)))
        return (f"the client got {status} (Malformed Lambda proxy response): headers[{listed!r}] is a list, but "
                f"headers maps each name to one value (a string). Several values of one header go in "
                f"multiValueHeaders: {_MULTI}")
    if "statusCode" not in result:
        return (f"the client got {status} (Malformed Lambda proxy response): payload 1.0 requires statusCode (201 "
                f"here) and a string body")
    if "body must be a string" in why:
        body = result.get("body")
        return (f"the client got {status} (Malformed Lambda proxy response): the body is a {type(body).__name__}, "
                f"not a string. The body must be a string: json.dumps(...) it (or send '')")
    return f"the client got {status}, Malformed Lambda proxy response: {why}"


def _cookie_pairs(value: str) -> list[str]:
    """The ``name=value`` pairs a Set-Cookie line holds: one, or several if they were joined with commas."""
    return [part.split(";", 1)[0].strip() for part in value.split(",")
            if "=" in part.split(";", 1)[0]]


def _ex2_answer_hints(response: "Response", order_id: str) -> list[tuple[str, str]]:
    """What is wrong with a response the client got, as (kind of mistake, hint); empty when it is right."""
    hints = []
    if response.status != 201:
        hints.append(("status", f"the status is {response.status}: a POST that creates an order answers 201 "
                                f"Created ('statusCode': 201)"))
    location = response.header("location")
    wanted = f"/orders/{order_id}"
    if location is None:
        hints.append(("no location", "no Location header: name the new order's address, 'Location': "
                                     "f'/orders/{order_id}' in headers, with the id from the request body "
                                     "(json.loads(event['body'])['id'])"))
    elif not (location == wanted or (location.startswith(("http://", "https://")) and location.endswith(wanted))):
        hints.append(("location", f"for order {order_id!r} the Location was {short(location, 50)}, expected "
                                  f"{wanted!r}: take the id from the request body, json.loads(event['body'])['id']"))
    lines = response.header_values("set-cookie")
    pairs = [pair for line in lines for pair in _cookie_pairs(line)]
    session, theme = f"session={order_id}", "theme=dark"
    if not lines:
        hints.append(("no cookie", f"no Set-Cookie header reached the client: set two cookies, session=<the order "
                                   f"id> and theme=dark, with {_MULTI}"))
    elif len(lines) == 1 and len(_cookie_pairs(lines[0])) > 1:
        hints.append(("joined", f"both cookies came in one Set-Cookie header ({short(lines[0], 50)}), joined with a "
                                f"comma: a browser reads one cookie per Set-Cookie header. Send two headers: "
                                f"{_MULTI}"))
    elif len(lines) == 1:
        hints.append(("one cookie", f"the client got one Set-Cookie header ({short(lines[0], 50)}): an entry of "
                                    f"headers carries one value, so the dict holds one Set-Cookie. For two cookies "
                                    f"use {_MULTI}"))
    else:
        if session not in pairs:
            hints.append(("session", f"no session cookie for order {order_id!r}: expected {session!r} (the id from "
                                     f"the request body), got cookies {short(pairs, 60)}"))
        if theme not in pairs:
            hints.append(("theme", f"no theme=dark cookie: got cookies {short(pairs, 60)}"))
    return hints


def cookies_and_location(lab: "Lab", handler: Handler) -> Verdict:
    """Exercise 2: ``handler`` answers POST /orders behind a REST API with 201, a Location and two cookies."""
    handler = _as_handler(handler)
    if not callable(handler):
        return report(EX2, [f"expected a function handler(event, context), got {short(handler)}"])
    name = fresh_name(lab, "ex2-api-check")
    fn = lab.function(name, handler)
    apis: list[Any] = []
    problems = Problems("behind ")
    try:
        apis.append(lab.rest_api({"POST /orders": fn}, stage="prod"))
        for _ in range(2):
            order_id = f"o-{secrets.token_hex(4)}"
            response, inv = _send(lab, apis[0], name, "POST", "/orders", json={"id": order_id})
            if inv is None:
                problems.add(f"the POST got {response.status} without invoking the function "
                             f"({short(response.text, 50)})")
            elif inv.outcome != "success":
                problems.add(_ex2_error_hint(inv))
            else:
                why = _malformed_why(inv.result, "1.0")
                if why is not None:
                    problems.add(_ex2_malformed_hint(inv.result, why, response.status))
                else:
                    for kind, hint in _ex2_answer_hints(response, order_id):
                        problems.add(hint, key=kind)
    finally:
        _remove(lab, apis)
    return report(EX2, problems.lines())


# --------------------------------------------------------------------------- Exercise 3
EX3 = "Exercise 3 (provisioned concurrency for the checkout bursts)"
#: The checkout endpoint's day: (hour of the day, customers who check out at the same moment).
EX3_BURSTS = ((9.0, 2), (12.5, 4), (15.0, 3), (18.25, 1), (21.0, 4))
#: The checkout function: 512 MB, a 900 ms init, 300 ms per request.
EX3_PROFILE = {"memory_mb": 512, "init_duration_ms": 900, "duration_ms": 300}


def _checkout_day(lab: "Lab", provisioned: int) -> int:
    """Play the day's bursts over real HTTP against a fresh checkout function; return its cold starts.

    The customers of a burst send their requests from parallel threads, so they reach the lab at
    the same virtual instant and need as many environments at once.
    """
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    fn = lab.function(fresh_name(lab, "ex3-checkout"), lambda event, context: {"statusCode": 200, "body": "paid"},
                      provisioned_concurrency=provisioned, **EX3_PROFILE)
    api = lab.http_api({"POST /checkout": fn})
    url = api.serve() + "/checkout"
    try:
        start = lab.clock.elapsed()
        for hour, customers in EX3_BURSTS:
            lab.run(max(0.0, start + hour * 3_600 - lab.clock.elapsed()))
            with ThreadPoolExecutor(max_workers=customers) as pool:
                list(pool.map(lambda _: urllib.request.urlopen(url, data=b"{}", timeout=30).status,
                              range(customers)))
        lab.run(3_600)
        return int(api.requests()["cold_start"].sum())
    finally:
        _remove(lab, [api])


def provisioned_size(lab: "Lab", provisioned: Any) -> Verdict:
    """Exercise 3: the provisioned concurrency that keeps every checkout of the day warm, and no more.

    Runs the day of ``EX3_BURSTS`` with the learner's number, and with one less: the number is
    right when the first run has no cold start and the second has one.
    """
    from ..limits import LAMBDA_PROVISIONED_PER_GB_S_USD

    if not is_whole_number(provisioned) or provisioned < 0:
        return report(EX3, [f"provisioned concurrency is a whole number of execution environments (0 or more), "
                            f"got {short(provisioned)}"])
    if lab.runtime.environment_idle_s is None:
        return report(EX3, ["this lab never retires an idle environment, so a day of traffic shows no cold starts "
                            "after the first: make it with Lab(seed=0, environment_idle_s=600), as the chapter does"])
    total = sum(customers for _, customers in EX3_BURSTS)
    cold = _checkout_day(lab, provisioned)
    if cold:
        hint = (f"{cold} of the day's {total} checkouts waited for a cold start: provisioned concurrency counts "
                f"environments busy at the same moment, so look at the largest burst")
        return report(EX3, [hint])
    if provisioned and not _checkout_day(lab, provisioned - 1):
        per_day = EX3_PROFILE["memory_mb"] / 1024 * 86_400 * LAMBDA_PROVISIONED_PER_GB_S_USD
        extra = "" if provisioned < total else " (it counts environments busy at once, not requests per day)"
        return report(EX3, [f"{provisioned - 1} would keep every checkout warm too{extra}; each provisioned "
                            f"environment costs ${per_day:.2f} a day, used or not"])
    return report(EX3, [])
