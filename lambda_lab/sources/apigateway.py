"""API Gateway in front of functions: HTTP APIs and REST APIs, in-process and over real HTTP.

``http_api(lab, {"GET /users/{userId}": fn, "$default": other})`` and
``rest_api(lab, {"ANY /{proxy+}": fn}, stage="prod")`` return an :class:`Api`: a route table
matched as API Gateway matches it, the Lambda proxy integration (payload 2.0 for HTTP APIs,
1.0 for REST APIs), and the responses AWS gives when things go wrong. moto's API Gateway stores
APIs but never runs an ``AWS_PROXY`` integration (reference/moto-audit.md §7), so the lab is
the integration, as it is the poller for SQS.

Two ways in, one code path (``Api._handle``), so they answer identically:

* ``api.get(path, headers=..., query=...)``, ``api.post(path, body=..., json=...)``,
  ``api.request(method, path, ...)``: an in-notebook client returning a :class:`Response`.
  Paths are relative to the invoke URL (which holds a REST API's stage). From a notebook cell
  the request moves the clock to the moment the client has its answer, as ``fn.invoke`` does.
* ``api.serve()`` starts a real HTTP server (werkzeug) on 127.0.0.1 on a free port, in a
  daemon thread, and returns the invoke URL; ``curl`` and ``requests`` work against it.
  ``api.stop()`` (and ``lab.close()``) shuts it down and joins every thread it started.
  Requests arrive on server threads: each takes ``lab.lock`` and starts at the current virtual
  instant without moving the clock (the rule of tests/test_threads.py), so fifty parallel
  requests overlap and concurrency limits apply to them as on AWS.

Each request is one row of ``lab.outcomes()`` (source ``apigateway``, item the API Gateway
request id): ``processed`` for a 2xx the client saw, ``failed`` with ``HTTP <status>: <why>``
otherwise, decided by the caller's layer. ``api.requests()`` has one row per request with the
status the client saw next to the function's outcome and Lambda request id (join it with
``lab.log.to_frame()``), and the latency: integration latency = init + duration (API Gateway's
own few milliseconds are not modelled). ``api.log()`` holds API Gateway's side, in the words
of its execution log ("Execution failed due to configuration error: Malformed Lambda proxy
response").

What goes wrong, and what the client sees (checked against AWS's pages and re:Post; the
source of every cell is in ``ERROR_TABLE_SOURCES``)::

    case                                  REST API (payload 1.0)         HTTP API (payload 2.0)
    function error (or its own timeout)   502 "Internal server error"    500 "Internal Server Error"
    malformed proxy response              502 "Internal server error"    500 "Internal Server Error"
    Lambda rejects the invoke (429, 413)  500 "Internal server error"    500 "Internal Server Error"
    integration timeout (29 s / 30 s)     504 "Endpoint request timed    503 "Service Unavailable"
                                              out"
    stage or account throttling           429 "Too Many Requests"        429 "Too Many Requests"
    no route matches                      403 "Missing Authentication    404 "Not Found"
                                              Token"

Each body is ``{"message": ...}`` (exact bytes in ``ERRORS``).

After an integration timeout the function goes on to its own end: its invocation in
``lab.log`` has its full duration and keeps its environment busy, while the client already
has its 504/503.

Response rules. Payload 1.0 (REST, and HTTP APIs set to 1.0) requires the proxy shape
``{"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}``: anything else
(not an object, no ``statusCode``, a ``body`` that is not a string, another top-level key) is
"Malformed Lambda proxy response". ``headers`` and ``multiValueHeaders`` are merged (the
multi-value one wins a name given in both). Payload 2.0 infers a response from any JSON
without ``statusCode`` (200, ``content-type: application/json``, the JSON as body, a string as
itself); with ``statusCode`` it is the explicit form, whose ``cookies`` become ``set-cookie``
headers (the lab also merges a ``multiValueHeaders`` there, which AWS documents for 1.0 only,
and ignores other keys). ``isBase64Encoded: true`` bodies are decoded: always on an HTTP API, on a REST API
only when the request's ``Accept`` names one of the API's ``binaryMediaTypes`` (otherwise the
client gets the base64 text, as from AWS).

What the lab does not reproduce: authorizers, API keys and usage plans, CORS, custom domains,
request validation, mapping templates (only the proxy integration exists), WebSocket APIs,
canary stages, caching, API Gateway's own latency, and the ``x-amzn-Remapped-*`` renaming of
every reserved header (only ``Date`` and ``Server`` are remapped; hop-by-hop headers and
``Content-Length`` from the function are dropped). Account-level throttling is applied per
API, not across every API of the account. A long-running server whose requests never move
the clock keeps every environment it started busy: move time from the notebook
(``lab.run``) between bursts, as the chapter does.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import email.utils
import hashlib
import http
import itertools
import json as jsonlib
import math
import numbers
import random
import re
import socket
import threading
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping
from urllib.parse import quote, unquote, urlencode, urlsplit

from .. import ledger as L
from .. import limits
from ..errors import ConfigurationError, RequestEntityTooLargeException
from ..events import apigateway as events

if TYPE_CHECKING:
    import pandas as pd

    from ..lab import Lab
    from ..runtime import Function

SOURCE = "apigateway"

# --- AWS pages cited by route and format errors (the numbers and their pages are in limits.py) ---
_APIGW_GUIDE = "https://docs.aws.amazon.com/apigateway/latest/developerguide/"
HTTP_ROUTES_URL = "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html"
REST_PROXY_URL = "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-set-up-simple-proxy.html"
HTTP_LAMBDA_URL = _APIGW_GUIDE + "http-api-develop-integrations-lambda.html"
REST_LAMBDA_URL = "https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html"
ENDPOINT_TYPES_URL = "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-endpoint-types.html"

#: REST endpoint types (ENDPOINT_TYPES_URL); CreateRestApi makes an edge-optimized API unless told.
ENDPOINT_TYPES = ("EDGE", "REGIONAL", "PRIVATE")
#: HTTP methods a route or REST method may name (ANY matches every method not named for the path).
METHODS = ("ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")

# --- Real-time safety nets (not AWS numbers): only reached when something is stuck ---------------
#: Real seconds a server request waits for the lab's lock before answering 503.
LOCK_WAIT_S = 60.0
#: Real seconds between the server loop's checks for ``stop()``.
POLL_INTERVAL_S = 0.02


@dataclass(frozen=True)
class GatewayError:
    """A response API Gateway makes itself: status, exact body bytes, its log line, and the short
    reason ``lab.outcomes()`` shows in ``where``."""

    status: int
    body: bytes
    log: str
    reason: str


_REST_500 = b'{"message": "Internal server error"}'
_HTTP_500 = b'{"message":"Internal Server Error"}'

#: What the client sees, by API type and case. Bodies are byte for byte what AWS sends: REST's
#: Lambda failures carry a space after the colon; gateway responses built from the template
#: ``{"message":$context.error.messageString}`` do not.
ERRORS: dict[tuple[str, str], GatewayError] = {
    ("rest", "function_error"): GatewayError(
        502, _REST_500, "Lambda execution failed with status 200 due to customer function error", "function error"),
    ("rest", "malformed"): GatewayError(
        502, _REST_500, "Execution failed due to configuration error: Malformed Lambda proxy response",
        "Malformed Lambda proxy response"),
    ("rest", "rejected"): GatewayError(500, _REST_500, "Lambda invocation failed", "Lambda rejected the invoke"),
    ("rest", "timeout"): GatewayError(504, b'{"message": "Endpoint request timed out"}',
                                      "Execution failed due to a timeout error", "Endpoint request timed out"),
    ("rest", "throttled"): GatewayError(429, b'{"message":"Too Many Requests"}',
                                        "Request throttled (stage or account limit)", "Too Many Requests"),
    ("rest", "no_route"): GatewayError(403, b'{"message":"Missing Authentication Token"}',
                                       "No resource and method match the request", "Missing Authentication Token"),
    ("rest", "too_large"): GatewayError(413, b'{"message":"Request Too Long"}', "Request payload over 10 MB",
                                        "Request Too Long"),
    ("rest", "bad_base64"): GatewayError(500, _REST_500, "Execution failed due to configuration error: Unable to "
                                         "base64-decode the response body", "body is not valid base64"),
    ("http", "function_error"): GatewayError(500, _HTTP_500, "Lambda execution failed due to customer function error",
                                             "function error"),
    ("http", "malformed"): GatewayError(500, _HTTP_500, "Malformed Lambda proxy response",
                                        "Malformed Lambda proxy response"),
    ("http", "rejected"): GatewayError(500, _HTTP_500, "Lambda invocation failed", "Lambda rejected the invoke"),
    ("http", "timeout"): GatewayError(503, b'{"message":"Service Unavailable"}', "Integration timed out",
                                      "integration timed out"),
    ("http", "throttled"): GatewayError(429, b'{"message":"Too Many Requests"}',
                                        "Request throttled (stage or account limit)", "Too Many Requests"),
    ("http", "no_route"): GatewayError(404, b'{"message":"Not Found"}', "No route matches the request", "Not Found"),
    ("http", "too_large"): GatewayError(413, b'{"message":"Request Entity Too Large"}', "Request payload over 10 MB",
                                        "Request Entity Too Large"),
    ("http", "bad_base64"): GatewayError(500, _HTTP_500, "Malformed Lambda proxy response: body is not valid base64",
                                         "body is not valid base64"),
}

#: Where each cell of the error table comes from (read through the project's search tools). Each
#: says whether it "confirmed" the cell of issue 16's table, "completed" it (the issue left the
#: body out) or "added" a row the issue did not have. No cell of the issue's table was wrong.
ERROR_TABLE_SOURCES: dict[tuple[str, str], str] = {
    ("rest", "function_error"): (
        "confirmed: https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html "
        "('If the function runs but returns an error, or returns a response in the wrong format, API Gateway "
        "returns a 502 ... the body ... is {\"message\": \"Internal server error\"}')"),
    ("rest", "malformed"): (
        "confirmed: https://repost.aws/knowledge-center/malformed-502-api-gateway ('Execution failed due to "
        "configuration error: Malformed Lambda proxy response' / 'Method completed with status: 502') and the "
        "Lambda page above"),
    ("rest", "rejected"): (
        "confirmed: https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html ('If the Lambda "
        "API rejects the invocation request, API Gateway returns a 500 error code'); a throttle observed as 500 "
        "with no 429 passed on: https://repost.aws/questions/QUfI6bsdd0SOiPeyimzxSkfQ"),
    ("rest", "timeout"): (
        "confirmed: https://repost.aws/knowledge-center/api-gateway-504-errors (504 when the integration takes "
        "longer than the maximum integration timeout; log 'Execution failed due to a timeout error'); "
        "INTEGRATION_TIMEOUT defaults to 504 in "
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html; the "
        "body text is the one clients report (https://github.com/serverless/serverless/issues/3171); 29 s limit "
        "and the 2024 raise for Regional/private APIs: " + limits.APIGW_REST_QUOTAS_URL + " and "
        + limits.APIGW_TIMEOUT_NEWS_URL),
    ("rest", "throttled"): (
        "confirmed: " + limits.APIGW_THROTTLING_URL + " ('returns 429 Too Many Requests error responses'; token "
        "bucket, default 10,000 rps and burst 5,000)"),
    ("rest", "no_route"): (
        "added: https://repost.aws/knowledge-center/api-gateway-authentication-token-errors (a request to a "
        "method or resource that does not exist gets 403 'Missing Authentication Token')"),
    ("http", "function_error"): (
        "confirmed (body from AWS, status from users): "
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-lambda.html "
        "('My API with a Lambda integration returns {\"message\":\"Internal Server Error\"}'); 500 reported for a "
        "function error behind an HTTP API in https://github.com/awslabs/aws-lambda-cpp/issues/117"),
    ("http", "malformed"): (
        "confirmed: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-lambda.html "
        "(a response not in the required format is one cause of the Internal Server Error)"),
    ("http", "rejected"): (
        "completed (the issue's cell had no body): the rule of "
        "https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html (Lambda rejects the invoke "
        "-> 500) with the HTTP API's own body from "
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-lambda.html; no AWS "
        "page states the throttle case for HTTP APIs separately"),
    ("http", "timeout"): (
        "confirmed (from re:Post and users, not from an AWS guide page): "
        "https://repost.aws/questions/QUY-RwZFRdTAa-rf6JrNTLRQ/status-codes-http-api-gateway-proxy (503 when the "
        "API can't receive a response from the integration), https://github.com/anomalyco/sst/issues/2232 "
        "(503 'Service Unavailable' while the function still runs), "
        "https://github.com/serverless/serverless/issues/11222 (503 after the HTTP API timeout). Conflict: the "
        "Knowledge Center 504 article's title names HTTP APIs too, but its text describes the REST timeout. 30 s "
        "limit: " + limits.APIGW_HTTP_QUOTAS_URL),
    ("http", "throttled"): (
        "confirmed: " + limits.APIGW_HTTP_THROTTLING_URL + " ('Clients may receive 429 Too Many Requests')"),
    ("http", "no_route"): "added: " + HTTP_ROUTES_URL + " (no match returns {\"message\":\"Not Found\"})",
    ("rest", "too_large"): (
        "added: 'Payload size | 10 MB' in " + limits.APIGW_REST_QUOTAS_URL + "; REQUEST_TOO_LARGE defaults to "
        "413 in https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html"),
    ("http", "too_large"): (
        "added: 'Payload size | 10 MB' in " + limits.APIGW_HTTP_QUOTAS_URL
        + "; the 413 body text is the lab's assumption"),
    ("rest", "bad_base64"): (
        "added: API_CONFIGURATION_ERROR (500) covers 'when base64 decoding fails on binary data', "
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html"),
    ("http", "bad_base64"): (
        "added: the lab treats a body that is not base64 as a malformed response (an assumption; the response "
        "format is " + HTTP_LAMBDA_URL + ")"),
}


# --- routes -------------------------------------------------------------------------------------
_VARIABLE = re.compile(r"\{([A-Za-z0-9._-]+)(\+?)\}")


@dataclass(frozen=True)
class Route:
    """One route: ``method`` (``GET``, ``ANY``, or ``""`` for ``$default``), its path template
    split into ``parts`` (``("users", "{userId}")``), and the function behind it."""

    key: str
    method: str
    path: str
    parts: tuple[str, ...]
    fn: "Function"

    @property
    def greedy(self) -> bool:
        return bool(self.parts) and self.parts[-1].endswith("+}")

    @property
    def is_default(self) -> bool:
        return self.key == "$default"

    def match(self, method: str, segments: list[str]) -> dict[str, str] | None:
        """The path parameters when this route takes ``method`` on ``segments``, else None."""
        if self.is_default:
            return {}
        if self.method not in ("ANY", method):
            return None
        fixed = self.parts[:-1] if self.greedy else self.parts
        if len(segments) < len(fixed) + (1 if self.greedy else 0) or (not self.greedy and len(segments) != len(fixed)):
            return None
        params: dict[str, str] = {}
        for part, segment in zip(fixed, segments):
            name = _variable(part)
            if name is None:
                if part != segment:
                    return None
            elif not segment:
                return None
            else:
                params[name] = segment
        if self.greedy:
            params[_variable(self.parts[-1]) or "proxy"] = "/".join(segments[len(fixed):])
        return params

    def rank(self) -> tuple:
        """Sort key, most specific first: exact paths, then greedy ones (longest prefix first),
        then ``$default``; literal segments before variables; a named method before ``ANY``."""
        if self.is_default:
            return (2,)
        kinds = tuple(0 if _variable(p) is None else 1 for p in self.parts)
        return (1 if self.greedy else 0, -len(self.parts) if self.greedy else 0, kinds, self.method == "ANY")


def _variable(part: str) -> str | None:
    """``{name}`` or ``{name+}`` -> ``name``; a literal segment -> None."""
    found = _VARIABLE.fullmatch(part)
    return found.group(1) if found else None


class RouteTable:
    """Routes of one API, matched as API Gateway matches them (``HTTP_ROUTES_URL``): a full match
    of route and method first, then a greedy ``{proxy+}`` match, then ``$default``."""

    def __init__(self, routes: Mapping[str, "Function"], kind: str):
        if not isinstance(routes, Mapping) or not routes:
            raise ConfigurationError(f"routes must be a non-empty dict of route key -> function, got {routes!r}")
        self.kind = kind
        parsed = [parse_route(key, fn, kind) for key, fn in routes.items()]
        _check_unique(parsed, kind)
        self.routes = sorted(parsed, key=Route.rank)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The most specific route taking ``method`` on ``path`` and its parameters, or None."""
        segments = split_path(path)
        for route in self.routes:
            params = route.match(method, segments)
            if params is not None:
                return route, params
        return None

    def __iter__(self):
        return iter(self.routes)


def split_path(path: str) -> list[str]:
    """``/users/a%20b/`` -> ``["users", "a b"]``: decoded segments, a trailing slash ignored."""
    segments = path.split("/")[1:]
    if segments and segments[-1] == "":
        segments.pop()
    return [unquote(s) for s in segments]


def parse_route(key: Any, fn: Any, kind: str) -> Route:
    """A ``Route`` from ``"GET /users/{userId}"`` (or ``"$default"`` on an HTTP API), refused with
    AWS's rule when it is not one."""
    from ..runtime import Function

    url = HTTP_ROUTES_URL if kind == "http" else REST_PROXY_URL
    if not isinstance(fn, Function):
        raise ConfigurationError(f"route {key!r} must map to a function from lab.function(...), got {fn!r}")
    if key == "$default":
        if kind == "rest":
            raise ConfigurationError(
                "REST APIs have no $default route; catch everything with 'ANY /{proxy+}' (plus 'ANY /' for the "
                f"root) ({REST_PROXY_URL})")
        return Route(key, "", "", (), fn)
    if not isinstance(key, str) or key.count(" ") != 1:
        raise ConfigurationError(
            f"a route key is '$default' or '<METHOD> <path>' with one space, such as 'GET /pets/{{petId}}', "
            f"got {key!r} ({url})")
    method, path = key.split(" ")
    if method not in METHODS:
        raise ConfigurationError(f"route {key!r}: the method must be one of {', '.join(METHODS)} (upper case), "
                                 f"got {method!r} ({url})")
    parts = _check_path(key, path, url)
    return Route(f"{method} {path}", method, path, parts, fn)


def _check_path(key: str, path: str, url: str) -> tuple[str, ...]:
    """The path's segments, after AWS's path rules: starts with '/', no empty segment, a variable
    is a whole segment, each variable named once, a greedy variable only at the end."""
    if not path.startswith("/"):
        raise ConfigurationError(f"route {key!r}: the path must start with '/' ({url})")
    parts = tuple(path.split("/")[1:]) if path != "/" else ()
    names: list[str] = []
    for n, part in enumerate(parts):
        if not part:
            raise ConfigurationError(f"route {key!r}: a path cannot have an empty segment or a trailing '/' ({url})")
        if ("{" in part or "}" in part) and _variable(part) is None:
            raise ConfigurationError(f"route {key!r}: a path variable must be a whole segment such as {{petId}} or "
                                     f"{{proxy+}}, got {part!r} ({url})")
        name = _variable(part)
        if name is not None:
            if name in names:
                raise ConfigurationError(f"route {key!r}: path variable {{{name}}} is used twice ({url})")
            names.append(name)
            if part.endswith("+}") and n != len(parts) - 1:
                raise ConfigurationError(f"route {key!r}: the greedy path variable {part} must be at the end of "
                                         f"the path ({url})")
    return parts


def _check_unique(routes: list[Route], kind: str) -> None:
    """Refuse two routes API Gateway could not tell apart, and (REST) sibling variables with two names."""
    seen: dict[tuple, Route] = {}
    for route in routes:
        shape = (route.method, tuple("{}" if _variable(p) else p for p in route.parts), route.greedy)
        if shape in seen:
            url = HTTP_ROUTES_URL if kind == "http" else REST_PROXY_URL
            raise ConfigurationError(f"routes {seen[shape].key!r} and {route.key!r} match the same requests; API "
                                     f"Gateway refuses the second ({url})")
        seen[shape] = route
    if kind != "rest":
        return
    siblings: dict[tuple[str, ...], str] = {}
    for route in routes:
        for depth, part in enumerate(route.parts):
            parent = route.parts[:depth]
            if _variable(part) is None:
                continue
            other = siblings.setdefault(parent, part)
            if other != part:
                raise ConfigurationError(
                    f"A sibling ({other}) of this resource already has a variable path part -- only one is allowed "
                    f"(route {route.key!r} under /{'/'.join(parent)}; {REST_PROXY_URL})")


# --- response rules -----------------------------------------------------------------------------
class Malformed(Exception):
    """The function's answer is not a proxy response (why, in the exception's text)."""


@dataclass
class Reply:
    """What API Gateway sends back: status, header lines, body bytes."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


_V1_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})
#: Headers a function cannot set: hop-by-hop ones and the length (API Gateway computes it).
_DROPPED = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"})
#: Headers API Gateway keeps for itself and renames the function's to ``x-amzn-Remapped-<name>``.
_REMAPPED = frozenset({"date", "server"})


def v1_response(result: Any, *, decode_base64: bool = True) -> Reply:
    """The reply for a payload-1.0 answer, or ``Malformed`` (the REST proxy's strict rules)."""
    if not isinstance(result, dict):
        raise Malformed(f"the response must be a JSON object, got {type(result).__name__}")
    extra = sorted(set(result) - _V1_KEYS)
    if extra:
        raise Malformed(f"unexpected field(s) {', '.join(extra)} (allowed: {', '.join(sorted(_V1_KEYS))})")
    status = _status(result)
    headers = _merged_headers(result.get("headers"), result.get("multiValueHeaders"))
    body = _body_bytes(result, decode_base64)
    return Reply(status, headers, body)


def v2_response(result: Any) -> Reply:
    """The reply for a payload-2.0 answer: inferred from plain JSON, or the explicit form."""
    if not (isinstance(result, dict) and "statusCode" in result):
        body = result if isinstance(result, str) else jsonlib.dumps(result)
        return Reply(200, [("content-type", "application/json")], body.encode())
    status = _status(result)  # other keys are ignored: 2.0 is lenient where 1.0 is strict
    headers = _merged_headers(result.get("headers"), result.get("multiValueHeaders"))
    cookies = result.get("cookies")
    if cookies is not None:
        if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
            raise Malformed("cookies must be a list of strings")
        headers += [("set-cookie", cookie) for cookie in cookies]  # one header per cookie
    return Reply(status, headers, _body_bytes(result, True))


def _status(result: dict) -> int:
    if "statusCode" not in result:
        raise Malformed("statusCode is missing")
    status = result["statusCode"]
    if isinstance(status, str) and status.isdigit():
        status = int(status)  # AWS's own Node.js blueprints return '200' as a string
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise Malformed(f"statusCode must be an HTTP status (100-599), got {result['statusCode']!r}")
    return status


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise Malformed(f"a header value must be a string, number or boolean, got {type(value).__name__}")


def _merged_headers(single: Any, multi: Any) -> list[tuple[str, str]]:
    """``headers`` and ``multiValueHeaders`` as header lines; a name in both keeps the multi values."""
    for name, value in (("headers", single), ("multiValueHeaders", multi)):
        if value is not None and not isinstance(value, dict):
            raise Malformed(f"{name} must be an object, got {type(value).__name__}")
    lines: list[tuple[str, str]] = []
    for name, values in (multi or {}).items():
        if not isinstance(values, list):
            raise Malformed(f"multiValueHeaders[{name!r}] must be a list")
        lines += [(name, _scalar(v)) for v in values]
    taken = {name.lower() for name, _ in lines}
    lines += [(name, _scalar(v)) for name, v in (single or {}).items() if name.lower() not in taken]
    return lines


def _body_bytes(result: dict, decode_base64: bool) -> bytes:
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise Malformed(f"body must be a string, got {type(body).__name__} (JSON-encode it: json.dumps(...))")
    encoded = result.get("isBase64Encoded", False)
    if not isinstance(encoded, bool):
        raise Malformed(f"isBase64Encoded must be true or false, got {encoded!r}")
    if not body:
        return b""
    if encoded and decode_base64:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise _BadBase64() from None
    return body.encode()


class _BadBase64(Exception):
    """``isBase64Encoded`` was true but ``body`` is not base64."""


def _client_headers(lines: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The function's headers as the client receives them (drop or remap what API Gateway owns)."""
    out = []
    for name, value in lines:
        low = name.lower()
        if low in _DROPPED:
            continue
        out.append((f"x-amzn-Remapped-{name}" if low in _REMAPPED else name, value))
    if not any(name.lower() == "content-type" for name, _ in out):
        out.append(("content-type", "application/json"))  # API Gateway's default for a proxy answer
    return out


# --- throttling ---------------------------------------------------------------------------------
class TokenBucket:
    """API Gateway's throttle: ``burst`` tokens, refilled at ``rate_per_s`` per virtual second."""

    def __init__(self, rate_per_s: float, burst: int, now_s: float):
        self.rate_per_s, self.burst = rate_per_s, burst
        self.tokens, self.at_s = float(burst), now_s

    def take(self, now_s: float) -> bool:
        """Spend one token at ``now_s``; False (throttle) when the bucket is empty."""
        self.tokens = min(self.burst, self.tokens + max(0.0, now_s - self.at_s) * self.rate_per_s)
        self.at_s = max(self.at_s, now_s)
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


# --- what the client gets -----------------------------------------------------------------------
@dataclass
class Response:
    """One HTTP response: ``status``, ``headers`` (lines, names as sent), ``body`` bytes."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    request_id: str = field(default="", repr=False)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), or None."""
        return events.header_value(self.headers, name)

    def header_values(self, name: str) -> list[str]:
        """Every value of header ``name`` (any case), e.g. all ``set-cookie`` lines."""
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON."""
        return jsonlib.loads(self.body)

    def __repr__(self) -> str:
        return f"<Response [{self.status}] {self.body[:60]!r}>"


#: Columns of ``Api.requests()``, in order. Times are seconds since the lab started.
COLUMNS = ["request_id", "arrived", "via", "method", "path", "route", "function", "status", "outcome",
           "lambda_request_id", "cold_start", "init_ms", "duration_ms", "integration_latency_ms", "latency_ms",
           "error"]

_API_COUNTERS: "weakref.WeakKeyDictionary[Any, itertools.count]" = weakref.WeakKeyDictionary()


def _api_id(lab: "Lab") -> str:
    """A seeded 10-character API id (``a1b2c3d4e5``), new for each API of a lab."""
    counter = _API_COUNTERS.setdefault(lab, itertools.count())
    digest = hashlib.sha256(f"{lab.seed}/api/{next(counter)}".encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[b % len(alphabet)] for b in digest[:10])


class Api:
    """An HTTP API or REST API in front of functions. Make it with :func:`http_api` or :func:`rest_api`."""

    def __init__(
        self,
        lab: "Lab",
        routes: Mapping[str, "Function"],
        *,
        kind: str,
        stage: str,
        payload_format_version: str,
        timeout_ms: float,
        endpoint_type: str | None = None,
        binary_media_types: Iterable[str] = (),
        throttle_rate_per_s: float | None = None,
        throttle_burst: int | None = None,
    ):
        _check_stage(stage, kind)
        self.lab = lab
        self.kind = kind
        self.stage = stage
        self.payload_format_version = payload_format_version
        self.endpoint_type = endpoint_type
        self.timeout_ms = timeout_ms
        self.binary_media_types = tuple(binary_media_types)
        self.table = RouteTable(routes, kind)
        for route in self.table:
            if route.fn.lab is not lab:
                raise ConfigurationError(
                    f"route {route.key!r}: the function must come from this lab's lab.function(...)")
        self.id = _api_id(lab)
        rate, burst = limits.APIGW_ACCOUNT_RATE_PER_S, limits.APIGW_ACCOUNT_BURST
        self.throttle_rate_per_s = min(rate, rate if throttle_rate_per_s is None else throttle_rate_per_s)
        self.throttle_burst = min(burst, burst if throttle_burst is None else throttle_burst)
        self._bucket = TokenBucket(self.throttle_rate_per_s, self.throttle_burst, lab.clock.now())
        self._rng = random.Random(f"{lab.seed}/{self.id}")
        self._rows: list[dict[str, Any]] = []
        self._log: list[tuple[float, str, str]] = []  # (epoch s, request id, text): formatted by log()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._request_threads: list[threading.Thread] = []
        self._connections_lock = threading.Lock()

    # --- addresses --------------------------------------------------------------------------
    @property
    def base_path(self) -> str:
        """The stage's part of every URL: ``/prod`` for a REST stage, '' for ``$default``."""
        return "" if self.stage == "$default" else f"/{self.stage}"

    @property
    def invoke_url(self) -> str:
        """The URL AWS would give this API (not reachable: the lab's own server is ``serve()``)."""
        return f"https://{self.id}.execute-api.{self.lab.region}.amazonaws.com{self.base_path}"

    @property
    def url(self) -> str | None:
        """The local server's invoke URL while it runs (``http://127.0.0.1:<port>[/stage]``), else None."""
        if self._server is None:
            return None
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.base_path}"

    # --- the in-notebook client -------------------------------------------------------------
    def request(self, method: str, path: str, *, headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
                query: Mapping[str, Any] | None = None, body: str | bytes | None = None, json: Any = None,
                cookies: Mapping[str, str] | None = None) -> Response:
        """Send one request to the API without a network (same rules as the server).

        ``path`` is relative to the invoke URL and may carry ``?query``; ``query`` adds
        parameters (a list value repeats the name); ``json`` sends a JSON body with
        ``content-type: application/json``; ``cookies`` become one ``Cookie`` header.
        From a notebook cell the clock moves to when the client has its answer.
        """
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"path must start with '/', got {path!r}")
        lines = list(headers.items()) if isinstance(headers, Mapping) else list(headers or [])
        if json is not None:
            body = jsonlib.dumps(json)
            if events.header_value(lines, "content-type") is None:
                lines.append(("Content-Type", "application/json"))
        raw = body.encode() if isinstance(body, str) else (body or b"")
        if cookies:
            lines.append(("Cookie", "; ".join(f"{k}={v}" for k, v in cookies.items())))
        if raw and events.header_value(lines, "content-length") is None:
            lines.append(("Content-Length", str(len(raw))))
        raw_path, _, raw_query = (self.base_path + path).partition("?")
        raw_path = quote(raw_path, safe="!$%&'()*+,/:;=@[]~")  # as requests re-quotes a URL
        raw_query = quote(raw_query, safe="!$%&'()*+,/:;=?@[]~")
        if query:
            raw_query = "&".join(q for q in (raw_query, urlencode(query, doseq=True)) if q)
        request = events.Request(method.upper(), raw_path, raw_query, lines, raw, "127.0.0.1")
        with self.lab.lock:
            return self._handle(request, via="client")

    def get(self, path: str, **options: Any) -> Response:
        """``request("GET", path, ...)``."""
        return self.request("GET", path, **options)

    def post(self, path: str, **options: Any) -> Response:
        """``request("POST", path, ...)``."""
        return self.request("POST", path, **options)

    def put(self, path: str, **options: Any) -> Response:
        """``request("PUT", path, ...)``."""
        return self.request("PUT", path, **options)

    def patch(self, path: str, **options: Any) -> Response:
        """``request("PATCH", path, ...)``."""
        return self.request("PATCH", path, **options)

    def delete(self, path: str, **options: Any) -> Response:
        """``request("DELETE", path, ...)``."""
        return self.request("DELETE", path, **options)

    # --- one request, whichever way it came (caller holds lab.lock) ---------------------------
    def _handle(self, request: events.Request, via: str) -> Response:
        now = self.lab.clock.now()
        request.time_epoch_ms = int(round(now * 1000))
        long_id, short_id = events.new_ids(self._rng)
        context = events.Context(self.id, self.lab.account_id, self.lab.region, self.stage,
                                 long_id if self.kind == "rest" else short_id, short_id,
                                 events.trace_id(now, self._rng))
        row = {"request_id": context.request_id, "arrived": round(now - self.lab.clock.start_s, 6), "via": via,
               "method": request.method, "path": request.raw_path, "route": None, "function": None,
               "status": None, "outcome": None, "lambda_request_id": None, "cold_start": False, "init_ms": 0.0,
               "duration_ms": 0.0, "integration_latency_ms": 0.0, "latency_ms": 0.0, "error": None}
        route_path = self._route_path(request.raw_path)
        found = None if route_path is None else self.table.match(request.method, route_path)
        if len(request.body) > limits.APIGW_PAYLOAD_MAX_BYTES:
            return self._finish(row, context, self._gateway("too_large"), now, 0.0)
        if found is None:
            return self._finish(row, context, self._gateway("no_route"), now, 0.0)
        route, params = found
        fn = self.lab.runtime.functions.get(route.fn.name, route.fn)  # a re-registered function replaces it
        row.update(route=route.key, function=fn.name)
        entry = self.lab.ledger.accept(SOURCE, context.request_id, fn.name)
        if not self._bucket.take(now):
            return self._finish(row, context, self._gateway("throttled"), now, 0.0, entry)
        event = self._event(request, context, route, route_path, params)
        return self._invoke(fn, event, request, row, context, now, entry)

    def _invoke(self, fn: "Function", event: dict, request: events.Request, row: dict, context: events.Context,
                now: float, entry: L.Entry) -> Response:
        from ..runtime import check_request

        self.lab.ledger.attempt(entry)
        try:
            if _may_exceed_invoke_limit(request):
                check_request(event, limits.SYNC_PAYLOAD_MAX_BYTES, "RequestResponse")
        except RequestEntityTooLargeException:
            too_big = self._gateway("rejected", " with status: 413", "Lambda rejected the invoke (413)")
            return self._finish(row, context, too_big, now, 0.0, entry)
        inv = self.lab.runtime.execute(fn, event, source=SOURCE, depth=self.lab.runtime.current_depth() + 1)
        entry.request_id = inv.request_id
        integration_ms = inv.init_duration_ms + inv.duration_ms
        row.update(outcome=inv.outcome, lambda_request_id=inv.request_id, cold_start=inv.cold_start,
                   init_ms=inv.init_duration_ms, duration_ms=inv.duration_ms)
        if inv.outcome == "throttled":
            reply = self._gateway("rejected", f" with status: 429. Lambda request id: {inv.request_id}",
                                  "Lambda throttled the invoke (429)")
        elif integration_ms > self.timeout_ms:
            # API Gateway gives up; the function runs on to its own end (its invocation keeps it all).
            reply, integration_ms = self._gateway("timeout"), float(self.timeout_ms)
        elif not inv.ok:
            message = inv.error_message or ""
            reply = self._gateway("function_error", f": {message}. Lambda request id: {inv.request_id}",
                                  f"function error ({inv.error_type})")
        else:
            reply = self._proxy_reply(inv.result, request)
        return self._finish(row, context, reply, now, integration_ms, entry)

    def _proxy_reply(self, result: Any, request: events.Request) -> "Reply | _Failure":
        """The function's answer as a reply, by the payload format's rules (or the gateway's error)."""
        try:
            if self.payload_format_version == "2.0":
                return v2_response(result)
            decode = self.kind == "http" or events.matches_media(_first_accept(request.headers),
                                                                 self.binary_media_types)
            return v1_response(result, decode_base64=decode)
        except Malformed as why:
            return self._gateway("malformed", f" ({why})")
        except _BadBase64:
            return self._gateway("bad_base64")

    def _gateway(self, case: str, detail: str = "", reason: str = "") -> "_Failure":
        """API Gateway's own response for ``case``; ``detail`` extends its log line, ``reason`` its
        short reason (``lab.outcomes()``'s ``where``)."""
        error = ERRORS[(self.kind, case)]
        return _Failure(error, error.log + detail, reason or error.reason)

    def _finish(self, row: dict, context: events.Context, reply: "Reply | _Failure", now: float,
                integration_ms: float, entry: L.Entry | None = None) -> Response:
        """Record the request (row, log, ledger), let a notebook caller wait, return the response."""
        if isinstance(reply, _Failure):
            status, lines, body = reply.error.status, [("content-type", "application/json")], reply.error.body
            message, reason = reply.message, reply.reason
            row["error"] = message
        else:
            status, lines, body = reply.status, _client_headers(reply.headers), reply.body
            message, reason = None, None
        answered = now + integration_ms / 1000
        row.update(status=status, integration_latency_ms=round(integration_ms, 2), latency_ms=round(integration_ms, 2))
        self._rows.append(row)
        self._log_request(row, message, now, answered)
        if entry is not None:
            ending = L.PROCESSED if 200 <= status < 300 else L.FAILED
            where = f"HTTP {status}" + (f": {reason}" if reason else "")
            self.lab.ledger.end(entry, ending, where, L.CALLER, ended_s=answered - self.lab.clock.start_s)
        if self.lab.runtime.caller_moves_clock():
            self.lab.scheduler.run_until(answered)  # the caller waits for its answer; due work runs meanwhile
        headers = [*lines, ("content-length", str(len(body))), *self._gateway_headers(context),
                   ("date", email.utils.formatdate(now, usegmt=True))]
        return Response(status, headers, body, context.request_id)

    def _gateway_headers(self, context: events.Context) -> list[tuple[str, str]]:
        if self.kind == "rest":
            return [("x-amzn-RequestId", context.request_id), ("x-amz-apigw-id", context.extended_request_id),
                    ("X-Amzn-Trace-Id", context.trace_id)]
        return [("apigw-requestid", context.request_id)]

    def _log_request(self, row: dict, message: str | None, now: float, answered: float) -> None:
        rid = row["request_id"]
        self._log.append((now, rid, f"{row['method']} {row['path']} -> {row['route'] or 'no route'}"))
        if message:
            self._log.append((answered, rid, message))
        self._log.append((answered, rid, f"Method completed with status: {row['status']}"))

    def _route_path(self, raw_path: str) -> str | None:
        """The path after the stage (``/prod/users/1`` -> ``/users/1``), or None for another stage."""
        prefix = self.base_path
        if not prefix:
            return raw_path
        if raw_path == prefix:
            return "/"
        return raw_path[len(prefix):] if raw_path.startswith(prefix + "/") else None

    def _event(self, request: events.Request, context: events.Context, route: Route, route_path: str,
               params: dict[str, str]) -> dict[str, Any]:
        if self.payload_format_version == "2.0":
            return events.http_event(request, context, route_key=route.key, path_parameters=params)
        resource = route.path or unquote(route_path)
        resource_id = hashlib.sha256(f"{self.id}{resource}".encode()).hexdigest()[:6]
        return events.rest_event(request, context, resource=resource, path=unquote(route_path),
                                 path_parameters=params, resource_id=resource_id,
                                 binary_media_types=self.binary_media_types,
                                 version="1.0" if self.kind == "http" else None)

    # --- what happened ----------------------------------------------------------------------
    def requests(self) -> "pd.DataFrame":
        """One row per request with ``COLUMNS``: the status the client saw next to the function's
        outcome and Lambda request id; ``integration_latency_ms`` = init + duration (capped at
        the integration timeout); ``latency_ms`` the same (API Gateway's overhead not modelled)."""
        import pandas as pd

        with self.lab.lock:
            frame = pd.DataFrame(list(self._rows), columns=COLUMNS)
        return frame.astype({"cold_start": bool})

    def log(self) -> str:
        """API Gateway's side of every request, one line per step, in its execution log's words."""
        with self.lab.lock:
            lines = [f"{_log_time(at)} : ({rid}) {text}" for at, rid, text in self._log]
        return "".join(line + "\n" for line in lines)

    # --- a real server ----------------------------------------------------------------------
    def serve(self) -> str:
        """Start a real HTTP server on 127.0.0.1 (a free port) and return its invoke URL.

        Calling it again returns the same URL. The server runs in a daemon thread, one thread
        per connection; ``stop()`` or ``lab.close()`` shuts it down.
        """
        if self._server is not None:
            return self.url
        from werkzeug.serving import make_server

        self._stopping.clear()
        server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_request_handler())
        server.lambda_lab_api = self
        # socketserver never joins daemon request threads; the lab starts them itself so stop() can.
        server.process_request = lambda request, address: self._start_request_thread(server, request, address)
        server.handle_error = lambda request, address: self._request_error(server, request, address)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL_S},
                                  name=f"lambda-lab-api-{self.id}", daemon=True)
        self._server, self._thread = server, thread
        thread.start()
        return self.url

    def stop(self) -> None:
        """Shut the server down and join its threads (safe to call twice, or without a server)."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()  # requests still waiting for the lab's lock answer 503 and leave
        server.shutdown()  # the accept loop ends; its finally closes the listening socket
        with self._connections_lock:
            for conn in self._connections:  # idle keep-alive connections: end their read, not their write
                _shut_read(conn)
        if thread is not None:
            thread.join()  # no request thread starts after this
        for request_thread in self._request_threads:
            if request_thread is not threading.current_thread():  # stop() called by a handler behind it
                request_thread.join()
        self._request_threads.clear()
        self._server = self._thread = None

    def pending(self) -> bool:
        """Requests are synchronous: nothing ever waits in an API (``lab.run_until_idle`` ignores it)."""
        return False

    def _request_error(self, server: Any, request: Any, address: Any) -> None:
        """socketserver prints a request thread's exception to stderr: not one stop() caused by ending reads."""
        if not self._stopping.is_set():
            type(server).handle_error(server, request, address)

    def _start_request_thread(self, server: Any, request: Any, address: Any) -> None:
        """One daemon thread per connection (as werkzeug's), remembered so ``stop()`` can join it."""
        thread = threading.Thread(target=server.process_request_thread, args=(request, address), daemon=True,
                                  name=f"lambda-lab-api-{self.id}-request")
        self._request_threads = [t for t in self._request_threads if t.is_alive()]
        self._request_threads.append(thread)
        thread.start()

    def _track(self, conn: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(conn)
            if self._stopping.is_set():
                _shut_read(conn)  # arrived while stopping: served at most once more, then closed

    def _untrack(self, conn: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(conn)

    def _wsgi(self, environ: dict, start_response: Any) -> list[bytes]:
        from werkzeug.wsgi import get_input_stream

        target = urlsplit(environ.get("lambda_lab.target") or environ.get("PATH_INFO", "/"))
        headers = environ.get("lambda_lab.headers", [])
        body = get_input_stream(environ).read()
        request = events.Request(environ["REQUEST_METHOD"], target.path or "/", target.query, headers, body,
                                 environ.get("REMOTE_ADDR") or "127.0.0.1")
        response = self._from_server(request)
        phrase = _phrase(response.status)
        start_response(f"{response.status} {phrase}", [(k, v) for k, v in response.headers if k.lower() != "date"])
        return [response.body]

    def _from_server(self, request: events.Request) -> Response:
        """Serve a request from a server thread: take the lab's lock (give up if stopping), then handle it."""
        lock = self.lab.lock
        waited = 0.0
        while not lock.acquire(timeout=POLL_INTERVAL_S * 5):
            waited += POLL_INTERVAL_S * 5
            if self._stopping.is_set() or waited >= LOCK_WAIT_S:
                body = b'{"message":"Service Unavailable"}'
                return Response(503, [("content-type", "application/json"), ("content-length", str(len(body)))], body)
        try:
            return self._handle(request, via="server")
        finally:
            lock.release()

    def __repr__(self) -> str:
        kind = "HttpApi" if self.kind == "http" else "RestApi"
        where = self.url or "not serving"
        return f"{kind}(id={self.id!r}, stage={self.stage!r}, routes={len(self.table.routes)}, {where})"


#: Bytes an event adds around the request's body and headers (request context, ids, keys), with room
#: to spare: API Gateway's own events are about 2 KB.
_EVENT_OVERHEAD_BYTES = 64 * 1024


def _may_exceed_invoke_limit(request: events.Request) -> bool:
    """True unless the event is certainly under Lambda's 6 MB, so most requests skip encoding the
    event to JSON twice (the runtime encodes it once anyway). JSON's ``\\uXXXX`` escapes turn one
    byte into at most 6 characters; headers appear twice in 1.0 (``headers`` and
    ``multiValueHeaders``) and the path up to four times."""
    header_bytes = sum(len(k) + len(v) for k, v in request.headers)
    bound = 6 * (len(request.body) + 2 * header_bytes + 4 * len(request.raw_path + request.query_string))
    return bound + _EVENT_OVERHEAD_BYTES >= limits.SYNC_PAYLOAD_MAX_BYTES


def _shut_read(conn: socket.socket) -> None:
    """End a connection's reading side: a thread waiting for its next request sees the end and leaves."""
    try:
        conn.shutdown(socket.SHUT_RD)
    except OSError:
        pass  # already closed


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Status"


def _first_accept(headers: list[tuple[str, str]]) -> str | None:
    """The first media type of the ``Accept`` header: the only one a REST API looks at for binary."""
    accept = events.header_value(headers, "accept")
    return accept.split(",", 1)[0] if accept else None


@dataclass(frozen=True)
class _Failure:
    """A request API Gateway answers itself: the response, its log line, its short reason."""

    error: GatewayError
    message: str
    reason: str


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _log_time(epoch_s: float) -> str:
    """The execution log's time stamp: ``Wed Aug 03 08:10:00 UTC 2022``."""
    moment = dt.datetime.fromtimestamp(epoch_s, tz=dt.timezone.utc)
    return f"{_DAYS[moment.weekday()]} {_MONTHS[moment.month - 1]} {moment:%d %H:%M:%S} UTC {moment.year}"


def _handler_class() -> type:
    """werkzeug's request handler, with the raw request line and header lines kept for the event."""
    from werkzeug.serving import WSGIRequestHandler

    class Handler(WSGIRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway speaks it
        # No socket timeout: it costs a poll() per read, and stop() ends idle connections itself.

        def make_environ(self) -> dict:
            environ = super().make_environ()
            # WSGI upper-cases header names and merges repeats; a REST event keeps the client's spelling.
            environ["lambda_lab.target"] = self.path
            environ["lambda_lab.headers"] = list(self.headers.items())
            return environ

        def setup(self) -> None:
            super().setup()
            self.server.lambda_lab_api._track(self.connection)

        def finish(self) -> None:
            try:
                super().finish()
            finally:
                self.server.lambda_lab_api._untrack(self.connection)

        def log_request(self, code: Any = "-", size: Any = "-") -> None:
            pass  # the Api keeps its own log (api.log())

        def log_error(self, format: str, *args: Any) -> None:
            # A request cut short by stop() (its read ended) is not an error worth a stderr line.
            if not self.server.lambda_lab_api._stopping.is_set():
                super().log_error(format, *args)

    return Handler


_HANDLER: type | None = None


def _request_handler() -> type:
    """The handler class, built once on first use (importing this module does not import werkzeug)."""
    global _HANDLER
    if _HANDLER is None:
        _HANDLER = _handler_class()
    return _HANDLER


# --- settings checks and the two front doors ------------------------------------------------------
def _check_stage(stage: Any, kind: str) -> None:
    if kind == "http" and stage == "$default":
        return
    if not isinstance(stage, str) or not re.fullmatch(limits.APIGW_STAGE_NAME_PATTERN, stage):
        extra = "'$default' or " if kind == "http" else ""
        raise ConfigurationError(f"stage must be {extra}1-{limits.APIGW_STAGE_NAME_MAX} letters, digits, hyphens "
                                 "and underscores, got "
                                 f"{stage!r} ({limits.APIGW_STAGE_URL})")


def _check_number(name: str, value: Any, low: float, high: float, url: str, *, integer: bool = False) -> None:
    limits.check_range(name, value, low, high, url=url, integer=integer)
    if isinstance(value, numbers.Real) and not math.isfinite(value):
        raise ConfigurationError(f"{name} must be finite, got {value!r} ({url})")


def _check_throttle(rate: Any, burst: Any, url: str) -> None:
    if rate is not None:
        _check_number("throttle_rate_per_s", rate, 0, limits.APIGW_ACCOUNT_RATE_PER_S, url)
    if burst is not None:
        _check_number("throttle_burst", burst, 0, limits.APIGW_ACCOUNT_BURST, url, integer=True)


def http_api(lab: "Lab", routes: Mapping[str, "Function"], *, stage: str = "$default",
             payload_format_version: str = "2.0", timeout_ms: float = limits.APIGW_HTTP_TIMEOUT_MAX_MS,
             throttle_rate_per_s: float | None = None, throttle_burst: int | None = None) -> Api:
    """An HTTP API with a Lambda proxy integration per route (payload 2.0 unless told ``"1.0"``).

    ``routes`` maps route keys (``"GET /users/{userId}"``, ``"ANY /{proxy+}"``, ``"$default"``)
    to functions. ``timeout_ms`` is the integration timeout, 50-30,000 ms (30 s, not
    adjustable: ``limits.APIGW_HTTP_QUOTAS_URL``). ``throttle_rate_per_s`` / ``throttle_burst`` are the
    stage's route throttling (token bucket; at most the account's 10,000 rps / 5,000 burst).
    The API is registered with ``lab.add_source`` so ``lab.close()`` stops its server.
    """
    if payload_format_version not in ("1.0", "2.0"):
        raise ConfigurationError(f"payloadFormatVersion must be '1.0' or '2.0', got {payload_format_version!r} "
                                 f"({HTTP_LAMBDA_URL})")
    _check_number("timeout_ms (TimeoutInMillis)", timeout_ms, limits.APIGW_HTTP_TIMEOUT_MIN_MS,
                  limits.APIGW_HTTP_TIMEOUT_MAX_MS, limits.APIGW_HTTP_QUOTAS_URL)
    _check_throttle(throttle_rate_per_s, throttle_burst, limits.APIGW_HTTP_THROTTLING_URL)
    api = Api(lab, routes, kind="http", stage=stage, payload_format_version=payload_format_version,
              timeout_ms=timeout_ms, throttle_rate_per_s=throttle_rate_per_s, throttle_burst=throttle_burst)
    return lab.add_source(api)


def rest_api(lab: "Lab", routes: Mapping[str, "Function"], stage: str = "prod", *,
             timeout_ms: float = limits.APIGW_REST_TIMEOUT_DEFAULT_MS, endpoint_type: str = "EDGE",
             binary_media_types: Iterable[str] = (), throttle_rate_per_s: float | None = None,
             throttle_burst: int | None = None) -> Api:
    """A REST API whose methods use the Lambda proxy integration (payload 1.0), deployed to ``stage``.

    ``routes`` maps ``"<METHOD> <resource path>"`` (``"GET /users/{id}"``, ``"ANY /{proxy+}"``)
    to functions; REST APIs have no ``$default``. ``timeout_ms`` is the integration timeout:
    50-29,000 ms, or more for ``endpoint_type`` ``"REGIONAL"`` / ``"PRIVATE"`` (since June
    2024; ``"EDGE"``, CreateRestApi's default, stays at 29 s). ``binary_media_types`` (such as
    ``["image/png"]`` or ``["*/*"]``) are the content types passed to the function base64-encoded.
    """
    if endpoint_type not in ENDPOINT_TYPES:
        raise ConfigurationError(f"endpoint_type must be one of {', '.join(ENDPOINT_TYPES)}, got {endpoint_type!r} "
                                 f"({ENDPOINT_TYPES_URL})")
    low, edge_max = limits.APIGW_REST_TIMEOUT_MIN_MS, limits.APIGW_REST_TIMEOUT_MAX_MS
    high = edge_max if endpoint_type == "EDGE" else limits.APIGW_REST_TIMEOUT_RAISED_MAX_MS
    if endpoint_type == "EDGE" and isinstance(timeout_ms, numbers.Real) and timeout_ms > edge_max:
        raise ConfigurationError(
            f"timeout_ms (timeoutInMillis) above {edge_max:,} ms is only for Regional and private REST "
            f"APIs; an edge-optimized API stays at {low}-{edge_max:,} ms, got {timeout_ms!r} "
            f"({limits.APIGW_REST_QUOTAS_URL}; {limits.APIGW_TIMEOUT_NEWS_URL})")
    _check_number("timeout_ms (timeoutInMillis)", timeout_ms, low, high, limits.APIGW_REST_QUOTAS_URL)
    types = list(binary_media_types)
    if not all(isinstance(t, str) and "/" in t for t in types):
        raise ConfigurationError(f"binary_media_types must be media types such as 'image/png' or '*/*', got {types!r} "
                                 "(https://docs.aws.amazon.com/apigateway/latest/developerguide/"
                                 "api-gateway-payload-encodings.html)")
    _check_throttle(throttle_rate_per_s, throttle_burst, limits.APIGW_THROTTLING_URL)
    api = Api(lab, routes, kind="rest", stage=stage, payload_format_version="1.0", timeout_ms=timeout_ms,
              endpoint_type=endpoint_type, binary_media_types=types, throttle_rate_per_s=throttle_rate_per_s,
              throttle_burst=throttle_burst)
    return lab.add_source(api)
