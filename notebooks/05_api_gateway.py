# %% [markdown]
# # 05 · API Gateway: an HTTP request in, a response out, and the format is the contract
#
# API Gateway turns an HTTP request into an event, invokes your function synchronously, and turns
# what the function returns into the HTTP response. The usual telling: the proxy integration hands
# you the whole request, you read `event['requestContext']['http']['method']`, and the rough edge
# is cold starts, fixed by provisioned concurrency at a price. This chapter runs the handler behind
# both kinds of API and corrects the story: there are **two payload formats**, and a handler
# written for one breaks behind the other; a response in the wrong shape is a `502`; the client
# and your function see different timeouts; and cold starts, provisioned concurrency and its cost
# come out as numbers.
#
# **You will learn to:** put a function behind an HTTP API and a REST API · read both payload
# formats · return a response API Gateway accepts · route with path parameters and `{proxy+}` ·
# read repeated query parameters and headers · send and return binary bodies · tell what the
# client sees when the function fails, is throttled or is slow · call the API over real HTTP ·
# measure cold starts and what provisioned concurrency costs.
#
# **Time:** 40 minutes · **Prerequisites:** chapter 00.
#
# ## API Gateway at a glance
#
# | | API Gateway → Lambda |
# |---|---|
# | invocation model | **synchronous**: the client waits for the function's answer ([services-apigateway](https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway.html)) |
# | payload | REST API (Lambda proxy): format **1.0**; HTTP API: format **2.0** by default (1.0 on request) ([http-api-develop-integrations-lambda](https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html)) |
# | retries | none: an error goes back to the client as a status code |
# | integration timeout | REST: 50 ms-29 s (more for Regional and private APIs); HTTP: 30 s ([limits](https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html), [HTTP quotas](https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html)) |
# | cold starts | on the request path: the user waits for the init |

# %%
import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import matplotlib.pyplot as plt
import pandas as pd
import requests

from lambda_lab import Lab, notebook, show, show_event
from lambda_lab.check import apigateway as check
from lambda_lab.plots import apigateway as plots_api

notebook.setup()
lab = Lab(seed=0, environment_idle_s=600)  # idle environments retire after 10 minutes (section 5.6)
lab

# %% [markdown]
# ## 1. The picture
#
# ```
#  client ──HTTP──> API Gateway ──(route: GET /users/{userId})──> Invoke (synchronous) ──> handler
#     ^                  │ builds the event (payload 1.0 or 2.0)                              │
#     └──HTTP response───┴───────────── turns the return value into a response <─────────────┘
# ```
#
# The function never sees HTTP; it sees an event, and API Gateway reads its return value. Both
# sides of that contract depend on the **payload format**, which the API decides, not you.
#
# ## 2. Build it
#
# The blog post's handler, with its database as a dict:

# %%
USERS = {"ada": {"name": "Ada Lovelace"}, "alan": {"name": "Alan Turing"}}
seen_events = []


def get_user_from_database(user_id):
    return USERS.get(user_id)


def lambda_handler(event, context):
    seen_events.append(event)
    # Get the HTTP method from the event
    http_method = event['requestContext']['http']['method']

    if http_method == 'GET':
        # Extract a path parameter, e.g., /users/{userId}
        user_id = event['pathParameters']['userId']
        user = get_user_from_database(user_id)
        return {
            'statusCode': 200,
            'headers': {'Content-Type': 'application/json'},
            'body': json.dumps(user)
        }
    else:
        return {
            'statusCode': 405,
            'body': json.dumps('Method Not Allowed')
        }


users = lab.function("users", lambda_handler)
http_api = lab.http_api({"ANY /users/{userId}": users})
http_api

# %% [markdown]
# An HTTP API, with an in-notebook client that sends it requests:

# %%
http_api.get("/users/ada"), http_api.delete("/users/ada")

# %% [markdown]
# ## 3. Read the event
#
# Payload format 2.0, what an HTTP API sends
# ([http-api-develop-integrations-lambda](https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html)):

# %%
show_event(seen_events[0])

# %% [markdown]
# The same handler behind a **REST API**, the older and still most common kind:

# %%
rest_api = lab.rest_api({"ANY /users/{userId}": users}, stage="prod")
rest_api.get("/users/ada")

# %%
lab.log.to_frame("users")[["outcome", "error_type", "error_message"]].tail(1)

# %% [markdown]
# A `502` and a `KeyError`. A REST API's Lambda proxy integration sends **payload 1.0**: the
# method is `event['httpMethod']`, and there is no `requestContext.http`
# ([set-up-lambda-proxy-integrations](https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html)).
# Side by side, what each format calls the same request:

# %%
v1, v2 = seen_events[-1], seen_events[0]
pd.DataFrame({
    "payload 1.0 (REST)": [v1.get("version", "(none)"), v1["httpMethod"], v1["path"], v1["resource"],
                           v1["requestContext"]["path"]],
    "payload 2.0 (HTTP)": [v2["version"], v2["requestContext"]["http"]["method"], v2["rawPath"], v2["routeKey"],
                           v2["requestContext"]["http"]["path"]],
}, index=["version", "method", "path", "route", "requestContext path"])

# %% [markdown]
# > **A claim you will meet:** *"This is where API Gateway basically hands your function the entire
# > HTTP request ... Your function is responsible for parsing it and returning a very specific
# > response format."*
# >
# > **What AWS documents:** true, and there are two of each. The request arrives in format 1.0
# > (REST APIs, and HTTP APIs set to 1.0) or 2.0 (HTTP APIs by default), and the response rules
# > differ too (section 5.1). The blog's handler reads a 2.0-only field, so it works only behind an
# > HTTP API. Exercise 1 makes one handler work behind both.
#
# ## 4. Handle it
#
# Read what both formats have in common, and answer in the shape both accept:

# %%
def user_handler(event, context):
    method = event.get("httpMethod") or event["requestContext"]["http"]["method"]
    user = get_user_from_database(event["pathParameters"]["userId"])
    if method != "GET":
        return {"statusCode": 405, "body": json.dumps({"message": "Method Not Allowed"})}
    if user is None:
        return {"statusCode": 404, "body": json.dumps({"message": "no such user"})}
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(user)}


both = lab.function("users-both", user_handler)
apis = {"REST": lab.rest_api({"ANY /users/{userId}": both}), "HTTP": lab.http_api({"ANY /users/{userId}": both})}
{name: [api.get("/users/ada").status, api.get("/users/nobody").status, api.post("/users/ada").status]
 for name, api in apis.items()}

# %% [markdown]
# ## 5. When things go wrong
#
# ### 5.1 The response shape: a 502 for a dict
#
# A handler that returns its body as a dict, not a JSON string:

# %%
def dict_body(event, context):
    return {"statusCode": 200, "body": {"name": "Ada Lovelace"}}


def bare_dict(event, context):
    return {"name": "Ada Lovelace"}


shapes, shape_apis = {}, {}
for handler in (dict_body, bare_dict):
    fn = lab.function(handler.__name__, handler)
    for kind, make in (("REST (1.0)", lab.rest_api), ("HTTP (2.0)", lab.http_api)):
        api = shape_apis[(handler.__name__, kind)] = make({"GET /me": fn})
        response = api.get("/me")
        shapes[(handler.__name__, kind)] = (response.status, response.text)
pd.Series(shapes).unstack()

# %% [markdown]
# Payload 1.0 requires the proxy response shape, `statusCode` and a **string** `body`; anything
# else is a `502`, and API Gateway's log says why
# ([malformed-502-api-gateway](https://repost.aws/knowledge-center/malformed-502-api-gateway)).
# Payload 2.0 *infers* a response from plain JSON without a `statusCode` (`200`,
# `application/json`), but a `statusCode` with a dict body is a `500` there too
# ([http-api-develop-integrations-lambda](https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html)).
# The function *succeeded* both times: `lab.log` says `success`, the client got an error.

# %%
print(next(line for line in shape_apis[("dict_body", "REST (1.0)")].log().splitlines() if "Malformed" in line))
lab.outcomes(function="dict_body")[["item", "ending", "where"]]

# %% [markdown]
# ### 5.2 Routes: path parameters, `{proxy+}` and `$default`
#
# API Gateway picks the most specific route: a literal path beats a path parameter, which beats
# a greedy `{proxy+}`; `$default` catches what nothing else does
# ([http-api-develop-routes](https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html)).

# %%
echo = lab.function("echo", lambda event, context: {"route": event["routeKey"],
                                                     "params": event.get("pathParameters")})
routed = lab.http_api({"GET /users/me": echo, "GET /users/{userId}": echo, "ANY /files/{proxy+}": echo,
                       "$default": echo})
{path: routed.get(path).json() for path in ["/users/me", "/users/ada", "/files/a/b/c.txt", "/health"]}

# %% [markdown]
# ### 5.3 Repeated query parameters and headers
#
# `?tag=a&tag=b` and two `X-Trace` headers, in each format:

# %%
mirror = lab.function("mirror", lambda event, context: {"statusCode": 200, "body": json.dumps(event)})
request = {"query": [("tag", "a"), ("tag", "b")], "headers": [("X-Trace", "1"), ("X-Trace", "2")]}
v1 = lab.rest_api({"GET /items": mirror}).get("/items", **request).json()
v2 = lab.http_api({"GET /items": mirror}).get("/items", **request).json()
{"1.0 queryStringParameters": v1["queryStringParameters"],
 "1.0 multiValueQueryStringParameters": v1["multiValueQueryStringParameters"],
 "1.0 multiValueHeaders X-Trace": v1["multiValueHeaders"]["X-Trace"],
 "2.0 queryStringParameters": v2["queryStringParameters"], "2.0 rawQueryString": v2["rawQueryString"],
 "2.0 headers x-trace": v2["headers"]["x-trace"]}

# %% [markdown]
# Format 1.0 keeps every value in the `multiValue...` maps (and one in the single-value map);
# 2.0 joins them with commas, and lower-cases header names. A handler that reads
# `queryStringParameters["tag"]` gets `"b"` from one and `"a,b"` from the other.
#
# ### 5.4 Binary bodies
#
# Bodies are strings in both formats, so binary travels as base64, flagged `isBase64Encoded`
# ([http-api-develop-integrations-lambda](https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html)):

# %%
import base64


def thumbnail(event, context):
    image = base64.b64decode(event["body"]) if event["isBase64Encoded"] else event["body"].encode()
    return {"statusCode": 200, "headers": {"content-type": "image/png"},
            "body": base64.b64encode(image[:4]).decode(), "isBase64Encoded": True}


png = b"\x89PNG\r\n\x1a\n" + bytes(range(8))
images = lab.http_api({"POST /thumbnail": lab.function("thumbnail", thumbnail)})
answer = images.post("/thumbnail", body=png, headers={"content-type": "image/png"})
answer.status, answer.header("content-type"), answer.body

# %% [markdown]
# On a REST API the request is base64-encoded only when its content type is one of the API's
# `binaryMediaTypes` (`lab.rest_api(..., binary_media_types=["image/png"])`), and the response is
# decoded only when the request's `Accept` names one; otherwise the client gets base64 text.
#
# ### 5.5 Slow, throttled, failing: what the client sees
#
# Three functions behind both kinds of API: one that takes 45 s (its timeout is 60 s), one with
# no concurrency left, one that raises.

# %%
slow = lab.function("slow", lambda event, context: {"statusCode": 200, "body": "done"}, timeout_s=60,
                    duration_ms=45_000)
throttled = lab.function("throttled", lambda event, context: {"statusCode": 200, "body": "ok"},
                         reserved_concurrency=0)
failing = lab.function("failing", lambda event, context: 1 / 0)
routes = {"GET /slow": slow, "GET /throttled": throttled, "GET /failing": failing}
errors = {}
for kind, api in (("REST", lab.rest_api(routes)), ("HTTP", lab.http_api(routes))):
    for path in routes:
        response = api.get(path.split()[1])
        errors[(path.split()[1], kind)] = f"{response.status} {response.text}"
pd.Series(errors).unstack()

# %% [markdown]
# The cells, with their sources ([services-apigateway-errors](https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html),
# [api-gateway-504-errors](https://repost.aws/knowledge-center/api-gateway-504-errors),
# [http-api-troubleshooting-lambda](https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-lambda.html)):
# a function error is a `502` from a REST API and a `500` from an HTTP API; a throttled invoke
# (Lambda answers `429`) is a `500` from both, never a `429`: the client cannot tell it from a
# bug; the integration timeout is a `504` (REST, 29 s) or a `503` (HTTP, 30 s). The HTTP API's
# `500`/`503` statuses come from AWS's troubleshooting page and re:Post answers; AWS's guides do not
# tabulate them.
#
# After the timeout the client has its answer, and the function goes on for its 45 s:

# %%
lab.log.to_frame("slow")[["start", "end", "duration_ms", "outcome"]]

# %% [markdown]
# ### 5.6 Over real HTTP, fifty at once
#
# `api.serve()` starts a real HTTP server on this machine (127.0.0.1 only), so anything that
# speaks HTTP can call the API: `curl`, a browser, `requests`:

# %%
limited = lab.function("limited", user_handler, reserved_concurrency=10, duration_ms=1_000)
served = lab.http_api({"GET /users/{userId}": limited})
url = served.serve()
requests.get(f"{url}/users/ada", timeout=10).json()

# %% [markdown]
# Fifty requests in parallel, against a function with reserved concurrency 10 that takes a
# second each. They reach the lab at the same virtual instant, so they compete for the ten
# environments as they would on AWS:

# %%
lab.run(5)
with ThreadPoolExecutor(max_workers=50) as pool:
    statuses = list(pool.map(lambda n: requests.get(f"{url}/users/ada", timeout=30).status_code, range(50)))
Counter(statuses)

# %%
served.stop()
Counter(served.requests()["outcome"])

# %% [markdown]
# Ten ran; forty were throttled, and their clients got `500`, the same status as a bug. On AWS
# that is where `Throttles` in the function's metrics, not the API's status codes, tells you what
# happened.
#
# ### 5.7 Cold starts on the request path, and what provisioned concurrency costs
#
# > **A claim you will meet:** *"Cold starts are directly visible to your end user here. That first
# > request after a deployment or period of inactivity will be slower. You can mitigate this with
# > Provisioned Concurrency, but it costs extra."*
#
# True, and now in numbers. A day of traffic: a request every few minutes by day, long quiet
# gaps by night. How long an idle execution environment lives, AWS does not publish; this lab
# retires it after 10 idle minutes (`environment_idle_s=600`, the lab's assumption).

# %%
import random

rng = random.Random(5)
arrivals, t = [], 0.0
while t < 86_400:
    hour = t / 3_600 % 24
    t += rng.expovariate(1 / (240 if 8 <= hour < 20 else 2_400))  # every 4 min by day, 40 min by night
    arrivals.append(t)
len(arrivals)


# %%
def one_day(api):
    start = lab.clock.elapsed()
    for at in arrivals:
        lab.run(max(0.0, start + at - lab.clock.elapsed()))
        api.get("/users/ada")
    return api.requests()


profile = {"memory_mb": 512, "init_duration_ms": 900, "duration_ms": 40}
day = {"on demand": one_day(lab.http_api({"GET /users/{userId}": lab.function("day", user_handler, **profile)}))}
day["provisioned 1"] = one_day(lab.http_api({"GET /users/{userId}": lab.function(
    "day-pc", user_handler, provisioned_concurrency=1, **profile)}))
plots_api.latency_summary(day)

# %%
plots_api.latency(day, title="A day of requests: cold starts with and without provisioned concurrency")
plt.show()

# %% [markdown]
# What the day cost, at AWS's us-east-1 prices
# ([Lambda pricing](https://aws.amazon.com/lambda/pricing/)): provisioned concurrency is billed for
# every second it is configured, used or not, plus a lower price for the time invocations run on it.

# %%
from lambda_lab.runtime import cost_breakdown

costs = pd.DataFrame({name: cost_breakdown(lab, fn, 86_400) for name, fn in (("on demand", "day"),
                                                                            ("provisioned 1", "day-pc"))}).T
costs[["requests_usd", "on_demand_usd", "provisioned_duration_usd", "provisioned_concurrency_usd",
       "total_usd"]].map("${:.5f}".format)

# %% [markdown]
# ## Exercises
#
# **Exercise 1:** Write `ex1_handler`, one handler for `GET` and `DELETE /users/{userId}` that works
# behind a REST API and an HTTP API alike: status 200, `content-type: application/json`, and the body
# `{"method": <the HTTP method>, "user": <the userId path parameter>}`. The check puts it behind both
# kinds of API and sends requests with user ids it makes up.

# %% tags=["exercise"]
def ex1_handler(event, context):
    ...  # your code here


# %% jupyter={"source_hidden": true} tags=["solution"]
def ex1_handler(event, context):
    method = event["httpMethod"] if "httpMethod" in event else event["requestContext"]["http"]["method"]
    body = {"method": method, "user": event["pathParameters"]["userId"]}
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


# %% tags=["check"]
check.both_formats(lab, ex1_handler)

# %% [markdown]
# **Exercise 2:** Behind a REST API, `POST /orders` receives `{"id": "..."}`. Write `ex2_handler`,
# which answers `201 Created` with a `Location: /orders/<id>` header and sets two cookies,
# `session=<id>` and `theme=dark`, so that the client receives two `Set-Cookie` headers.

# %% tags=["exercise"]
def ex2_handler(event, context):
    ...  # your code here


# %% jupyter={"source_hidden": true} tags=["solution"]
def ex2_handler(event, context):
    order_id = json.loads(event["body"])["id"]
    return {"statusCode": 201, "headers": {"Location": f"/orders/{order_id}"},
            "multiValueHeaders": {"Set-Cookie": [f"session={order_id}", "theme=dark"]},
            "body": json.dumps({"id": order_id})}


# %% tags=["check"]
check.cookies_and_location(lab, ex2_handler)

# %% [markdown]
# **Exercise 3:** The `/checkout` endpoint has a quiet day with a few bursts, when several customers
# pay at the same moment (the table below: the hour, and how many at once). Its function has a 900 ms
# init. Choose `ex3_provisioned`, the provisioned concurrency that spares every customer of the day
# a cold start, at the lowest cost. The check plays the day over real HTTP with your number.

# %%
pd.DataFrame(check.EX3_BURSTS, columns=["hour", "customers at once"])

# %% tags=["exercise"]
ex3_provisioned = 0

# %% jupyter={"source_hidden": true} tags=["solution"]
ex3_provisioned = max(customers for _, customers in check.EX3_BURSTS)

# %% tags=["check"]
check.provisioned_size(lab, ex3_provisioned)

# %% [markdown]
# ## Summary
#
# - A REST API sends **payload 1.0** (`httpMethod`, `path`, `multiValueHeaders`); an HTTP API
#   sends **2.0** by default (`requestContext.http.method`, `rawPath`, comma-joined values). Write
#   the handler for the format its API sends, or for both.
# - Payload 1.0 needs `statusCode` and a **string** `body`, or the client gets `502`; 2.0 infers a
#   response from plain JSON.
# - Errors are status codes, not retries: `502`/`500` for a function error, `500` for a throttle,
#   `504`/`503` at the 29/30 s integration timeout, while the function runs on.
# - Cold starts happen on the request path, after every quiet gap; provisioned concurrency removes
#   them for as many concurrent requests as you provision, and costs for every second it exists.
#
# ## In production
#
# - **What the lab plays.** moto stores API Gateway resources but cannot run a Lambda proxy
#   integration; `lambda_lab.sources.apigateway` is the integration. Not modelled: authorizers,
#   API keys and usage plans, CORS, custom domains, request validation, mapping templates, caching,
#   WebSocket APIs, and API Gateway's own few milliseconds of latency.
# - **Requests over the server** arrive at the current virtual instant and do not move the clock;
#   move it from the notebook (`lab.run`) between bursts, as section 5.6 does.
# - **Idle lifetime** of an execution environment is not published by AWS; the lab's 10 minutes is
#   an assumption, and so is the 900 ms init of this chapter's function (yours: the `Init Duration`
#   in your function's REPORT log lines).
# - **The HTTP API's error statuses** for function errors, throttles and timeouts come from AWS's
#   troubleshooting pages and re:Post, not from a table in AWS's guides.
# - **Prices** are us-east-1, x86, as of the date in `lambda_lab.limits`.

# %%
lab.close()

# %% [markdown] tags=["navigation"]
# [← 04 · DynamoDB Streams](04_dynamodb_streams.ipynb) · [index](index.md) · [06 · EventBridge →](06_eventbridge.ipynb)
