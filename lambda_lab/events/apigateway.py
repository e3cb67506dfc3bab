"""API Gateway events, field for field as API Gateway hands an HTTP request to Lambda.

Two shapes, chosen by the API, not by the function:

* **REST API, Lambda proxy integration** (payload 1.0): :func:`rest_event`.
  https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
* **HTTP API, payload format 2.0** (and 1.0, which HTTP APIs also offer): :func:`http_event`.
  https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html

Both are checked against AWS's sample events in tests/data/aws-sample-events/ (the API
Gateway Developer Guide's blocks, the SAM CLI templates, Powertools' and aws-lambda-go's
test events; sources in its SOURCES.md). Gotchas a handler meets, reproduced on purpose:

- The method is ``event["httpMethod"]`` in 1.0 and ``event["requestContext"]["http"]["method"]``
  in 2.0; the path is ``path`` in 1.0 and ``rawPath`` in 2.0. A handler written for one
  format raises ``KeyError`` behind the other.
- 2.0 has no ``multiValueHeaders`` or ``multiValueQueryStringParameters``: repeated headers and
  query parameters arrive joined with commas (``"value1,value2"``). 1.0 keeps both: the
  single-value map holds the last value (https://github.com/aws/aws-lambda-go/issues/42: "only
  returns the last value"; the developer guide's sample shows the first, an inconsistency of
  the sample), the multi-value map every value.
- 2.0 header names are lower-cased; 1.0 keeps the client's spelling (``Content-Type`` or
  ``content-type``, whatever was sent). Look headers up case-insensitively.
- 2.0 moves the ``Cookie`` header into a ``cookies`` list (one entry per cookie).
- 2.0 leaves a field out when it has nothing (no ``queryStringParameters`` without a query
  string, no ``body`` for a GET); 1.0 sends ``null``.
- ``body`` is a string. A binary body arrives base64-encoded with ``isBase64Encoded: true``:
  on a REST API only when the request's ``Content-Type`` is one of the API's
  ``binaryMediaTypes`` (otherwise the bytes are passed as UTF-8 text); on an HTTP API
  whenever the content type is not a text type (see ``TEXT_MEDIA_TYPES``).
- On a REST API the stage is part of the URL and of ``requestContext.path``
  (``/prod/users/1``) but not of ``path`` (``/users/1``). On an HTTP API with a named stage
  ``rawPath`` includes the stage; with the ``$default`` stage there is none.
- Path and query parameters arrive URL-decoded; ``rawQueryString`` is left as sent.

What the lab does not reproduce: authorizers (``requestContext.authorizer`` is absent, as on
an API without one), mutual TLS (no ``clientCert`` / ``authentication``), stage variables
(``null`` / absent), the CloudFront headers of edge-optimized REST APIs (``CloudFront-*``,
``Via``, ``X-Amz-Cf-Id``), and the real ``Host``: the lab always names the API's own
``execute-api`` domain, as AWS does. ``X-Forwarded-For`` a client sent is replaced by the
client's address, where AWS appends to it. Which content types an HTTP API treats as text is the
lab's reading of the rule AWS documents for function URLs
(https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html); the HTTP API guide does
not list them.

Unlike the record-based modules of this package, an API Gateway event has no records and no
``eventSource``: ``rest_event``/``http_event`` build a whole event, ``sample_event`` gives a
well-formed one for calling a handler directly, and ``DISPLAY_FIELDS`` lists what
``show_event`` readers look at first.
"""

from __future__ import annotations

import base64
import hashlib
import random
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping
from urllib.parse import parse_qsl, unquote

#: The fields a handler author reads first, for either payload format (paths into the event).
DISPLAY_FIELDS = ("version", "routeKey", "resource", "httpMethod", "requestContext.http.method", "rawPath", "path",
                  "pathParameters", "queryStringParameters", "multiValueQueryStringParameters", "cookies", "body",
                  "isBase64Encoded")

#: Content types an HTTP API passes as text; any other body arrives base64-encoded. The lab's
#: reading of the function-URL rule (module docstring): text/*, JSON, JavaScript, XML, and the
#: ``+json`` / ``+xml`` structured suffixes. Form posts are NOT text here, as on AWS.
TEXT_MEDIA_TYPES = ("text/*", "application/json", "application/javascript", "application/xml")
TEXT_MEDIA_SUFFIXES = ("+json", "+xml")

#: The headers API Gateway adds on its way to the function (values filled per request).
FORWARDED_PORT = "443"
FORWARDED_PROTO = "https"
PROTOCOL = "HTTP/1.1"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass
class Request:
    """One HTTP request as API Gateway received it, before it becomes an event.

    ``raw_path`` is the path as sent (percent-encoded, stage included); ``query_string`` the
    part after ``?`` as sent; ``headers`` the header lines in order, names as the client
    spelled them, repeats kept; ``body`` the bytes; ``time_epoch_ms`` the virtual arrival time.
    """

    method: str
    raw_path: str
    query_string: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    time_epoch_ms: int = 0


@dataclass
class Context:
    """What API Gateway knows about the API and the request that the client did not send."""

    api_id: str
    account_id: str
    region: str
    stage: str
    request_id: str
    extended_request_id: str = ""
    trace_id: str = ""

    @property
    def domain_name(self) -> str:
        return f"{self.api_id}.execute-api.{self.region}.amazonaws.com"


# --- the pieces both formats share ---------------------------------------------------------------
def request_time(epoch_ms: int) -> str:
    """API Gateway's CLF time, ``12/Mar/2020:19:03:58 +0000`` (UTC; month names never localised)."""
    import datetime as dt

    moment = dt.datetime.fromtimestamp(epoch_ms / 1000, tz=dt.timezone.utc)
    return f"{moment.day:02d}/{_MONTHS[moment.month - 1]}/{moment.year}:{moment:%H:%M:%S} +0000"


def header_value(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """The first value of header ``name`` (any case), or None."""
    wanted = name.lower()
    return next((value for key, value in headers if key.lower() == wanted), None)


def media_type(content_type: str | None) -> str:
    """``application/json; charset=utf-8`` -> ``application/json`` (lower case, '' if none)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def matches_media(content_type: str | None, patterns: Iterable[str]) -> bool:
    """True when the media type matches one of ``patterns`` (``*/*`` and ``image/*`` allowed)."""
    kind = media_type(content_type)
    if not kind:
        return False
    for pattern in patterns:
        pattern = pattern.lower()
        if pattern == "*/*" or pattern == kind:
            return True
        if pattern.endswith("/*") and kind.startswith(pattern[:-1]):
            return True
    return False


def is_text(content_type: str | None) -> bool:
    """True when an HTTP API passes a body of this content type as text (``TEXT_MEDIA_TYPES``)."""
    kind = media_type(content_type)
    return matches_media(kind, TEXT_MEDIA_TYPES) or kind.endswith(TEXT_MEDIA_SUFFIXES)


def encode_body(body: bytes, binary: bool) -> tuple[str | None, bool]:
    """``(body, isBase64Encoded)``: base64 text for a binary body, else the bytes as UTF-8 text."""
    if not body:
        return None, False
    if binary:
        return base64.b64encode(body).decode("ascii"), True
    return body.decode("utf-8", errors="replace"), False  # API Gateway passes text as UTF-8


def query_pairs(query_string: str) -> list[tuple[str, str]]:
    """Decoded ``(name, value)`` pairs in order; ``?flag`` gives ``("flag", "")``."""
    return parse_qsl(query_string, keep_blank_values=True)


def forwarded_headers(request: Request, context: Context) -> list[tuple[str, str]]:
    """The client's headers as the function sees them: ``Host`` names the API, and API Gateway's
    ``X-Forwarded-*`` and ``X-Amzn-Trace-Id`` are added (hop-by-hop ``Connection`` dropped)."""
    out = [(k, v) for k, v in request.headers if k.lower() not in ("host", "connection", "keep-alive",
                                                                   "x-forwarded-for", "x-forwarded-port",
                                                                   "x-forwarded-proto", "x-amzn-trace-id")]
    host = next((k for k, _ in request.headers if k.lower() == "host"), "Host")
    return [(host, context.domain_name), *out, ("X-Amzn-Trace-Id", context.trace_id),
            ("X-Forwarded-For", request.source_ip), ("X-Forwarded-Port", FORWARDED_PORT),
            ("X-Forwarded-Proto", FORWARDED_PROTO)]


def decoded_path(raw_path: str) -> str:
    """The path with each segment URL-decoded (an encoded ``/`` stays inside its segment)."""
    return unquote(raw_path)


# --- payload 1.0 (REST API proxy; HTTP API 1.0) --------------------------------------------------
def rest_event(
    request: Request,
    context: Context,
    *,
    resource: str,
    path: str,
    path_parameters: Mapping[str, str] | None = None,
    resource_id: str = "",
    binary_media_types: Iterable[str] = (),
    version: str | None = None,
) -> dict[str, Any]:
    """The payload-1.0 event for ``request``: a REST API's Lambda proxy event.

    ``resource`` is the matched resource template (``/users/{id}``), ``path`` the request path
    without the stage, decoded (``/users/42``); ``requestContext.path`` is the raw path with
    the stage. ``binary_media_types`` is the API's ``binaryMediaTypes``: a body whose
    ``Content-Type`` matches one is base64-encoded. ``version="1.0"`` gives the HTTP API's
    payload 1.0 (which carries a ``version`` key; a REST API's event has none).
    """
    headers = forwarded_headers(request, context)
    single, multi = _header_maps(headers)
    pairs = query_pairs(request.query_string)
    content_type = header_value(request.headers, "content-type")
    body, encoded = encode_body(request.body, matches_media(content_type, binary_media_types))
    event: dict[str, Any] = {} if version is None else {"version": version}
    event.update({
        "resource": resource,
        "path": path,
        "httpMethod": request.method,
        "headers": single,
        "multiValueHeaders": multi,
        "queryStringParameters": dict(pairs) or None,  # a dict keeps the last value of a repeat
        "multiValueQueryStringParameters": _multi(pairs) or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": _rest_context(request, context, resource, resource_id,
                                        user_agent=header_value(request.headers, "user-agent")),
        "body": body,
        "isBase64Encoded": encoded,
    })
    return event


def _rest_context(request: Request, context: Context, resource: str, resource_id: str,
                  user_agent: str | None) -> dict[str, Any]:
    stage_prefix = "" if context.stage == "$default" else f"/{context.stage}"
    raw = request.raw_path
    path = raw if raw.startswith(stage_prefix + "/") or raw == stage_prefix else stage_prefix + raw
    return {
        "accountId": context.account_id,
        "apiId": context.api_id,
        "domainName": context.domain_name,
        "domainPrefix": context.api_id,
        "extendedRequestId": context.extended_request_id,
        "httpMethod": request.method,
        "identity": {
            "accessKey": None, "accountId": None, "caller": None, "cognitoAuthenticationProvider": None,
            "cognitoAuthenticationType": None, "cognitoIdentityId": None, "cognitoIdentityPoolId": None,
            "principalOrgId": None, "sourceIp": request.source_ip, "user": None, "userAgent": user_agent,
            "userArn": None,
        },
        "path": path,
        "protocol": PROTOCOL,
        "requestId": context.request_id,
        "requestTime": request_time(request.time_epoch_ms),
        "requestTimeEpoch": request.time_epoch_ms,
        "resourceId": resource_id,
        "resourcePath": resource,
        "stage": context.stage,
    }


def _header_maps(headers: list[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """1.0's ``headers`` (last value of a repeat) and ``multiValueHeaders`` (every value)."""
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        key = next((k for k in multi if k.lower() == name.lower()), name)  # first spelling wins
        multi.setdefault(key, []).append(value)
    return {k: v[-1] for k, v in multi.items()}, multi


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


# --- payload 2.0 (HTTP API) ----------------------------------------------------------------------
def http_event(
    request: Request,
    context: Context,
    *,
    route_key: str,
    path_parameters: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The payload-2.0 event for ``request`` on an HTTP API, matched to ``route_key``.

    Header names lower-cased, repeats joined with commas; ``Cookie`` moved to ``cookies``;
    repeated query parameters joined with commas; fields with nothing to carry left out.
    """
    headers = forwarded_headers(request, context)
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    joined.setdefault("content-length", str(len(request.body)))  # API Gateway states it, even 0
    params: dict[str, str] = {}
    for name, value in query_pairs(request.query_string):
        params[name] = f"{params[name]},{value}" if name in params else value
    body, encoded = encode_body(request.body, not is_text(header_value(request.headers, "content-type")))
    event: dict[str, Any] = {"version": "2.0", "routeKey": route_key, "rawPath": request.raw_path,
                             "rawQueryString": request.query_string}
    if cookies:
        event["cookies"] = cookies
    event["headers"] = joined
    if params:
        event["queryStringParameters"] = params
    event["requestContext"] = {
        "accountId": context.account_id,
        "apiId": context.api_id,
        "domainName": context.domain_name,
        "domainPrefix": context.api_id,
        "http": {"method": request.method, "path": request.raw_path, "protocol": PROTOCOL,
                 "sourceIp": request.source_ip, "userAgent": joined.get("user-agent", "")},
        "requestId": context.request_id,
        "routeKey": route_key,
        "stage": context.stage,
        "time": request_time(request.time_epoch_ms),
        "timeEpoch": request.time_epoch_ms,
    }
    if body is not None:
        event["body"] = body
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    event["isBase64Encoded"] = encoded
    return event


# --- ids, and a sample without an API ------------------------------------------------------------
def new_ids(rng: random.Random) -> tuple[str, str]:
    """``(uuid, short)``: a REST ``requestId`` (a UUID) and an ``extendedRequestId`` /
    HTTP API ``requestId`` (16 characters of base64 ending in ``=``, like ``LV7fzho-PHcEJPw=``)."""
    long_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    short = base64.b64encode(rng.getrandbits(80).to_bytes(10, "big"), altchars=b"-_").decode()[:15] + "="
    return long_id, short


def trace_id(epoch_s: float, rng: random.Random) -> str:
    """An X-Ray trace header value, ``Root=1-<8 hex seconds>-<24 hex>``."""
    return f"Root=1-{int(epoch_s):08x}-{rng.getrandbits(96):024x}"


#: When sample events happen: the lab's start, 2024-01-01T00:00:00Z.
SAMPLE_TIME_MS = 1_704_067_200_000
SAMPLE_ACCOUNT = "123456789012"


def sample_event(version: str = "2.0") -> dict[str, Any]:
    """A well-formed event without an API, for calling a handler directly in a test.

    ``"2.0"``: an HTTP API request like AWS's sample (``POST /my/path`` on the ``$default``
    route and stage, repeated query parameter and header, two cookies, a text body).
    ``"1.0"``: a REST API proxy request for ``GET /my/path`` on stage ``prod`` with the same
    query and headers. Equal arguments give equal events.
    """
    if version not in ("1.0", "2.0"):
        raise ValueError(f"version must be '1.0' (REST API proxy) or '2.0' (HTTP API), got {version!r}")
    rng = random.Random(hashlib.sha256(f"sample/{version}".encode()).hexdigest())
    long_id, short = new_ids(rng)
    headers = [("Header1", "value1"), ("Header2", "value1"), ("Header2", "value2"), ("User-Agent", "agent")]
    if version == "2.0":
        request = Request("POST", "/my/path", "parameter1=value1&parameter1=value2&parameter2=value",
                          [*headers, ("Cookie", "cookie1; cookie2"), ("Content-Type", "text/plain")],
                          b"Hello from Lambda", "192.0.2.1", SAMPLE_TIME_MS)
        context = Context("api-id", SAMPLE_ACCOUNT, "us-east-1", "$default", short, short,
                          trace_id(SAMPLE_TIME_MS / 1000, rng))
        return http_event(request, context, route_key="$default")
    request = Request("GET", "/prod/my/path", "parameter1=value1&parameter1=value2&parameter2=value", headers,
                      b"", "192.0.2.1", SAMPLE_TIME_MS)
    context = Context("id", SAMPLE_ACCOUNT, "us-east-1", "prod", long_id, short, trace_id(SAMPLE_TIME_MS / 1000, rng))
    return rest_event(request, context, resource="/my/path", path="/my/path", resource_id="abc123")
