"""``Lab``: the one object a chapter makes. It owns moto, the clock, functions, sources and the log."""

from __future__ import annotations

import copy
import functools
import json
import math
import numbers
import os
import random
import threading
from dataclasses import dataclass
from typing import Any, Callable, Protocol, TypeVar
from urllib.parse import urlparse

import boto3
import botocore.config
import botocore.handlers
import botocore.hooks
import botocore.loaders
import botocore.session
import botocore.utils

from .calls import CallRecorder
from .clock import DEFAULT_START, Clock, Scheduler
from .endpoints import REAL_AWS, check_endpoint, is_local
from .delivery import Faults, SendLog
from .ledger import Ledger
from .errors import ConfigurationError
from .limits import CLOUDWATCH_PERIOD_S, CONCURRENCY_URL, ESM_URL, UNRESERVED_FLOOR
from .log import InvocationLog
from .metrics import QueueSampler, compute as compute_metrics
from .runtime import DEFAULT_ACCOUNT_CONCURRENCY, Function, Handler, Runtime

#: moto's account id; every ARN in the lab uses it.
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
#: Fake credentials: the lab never reads yours unless you opt in to real AWS.
FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

_active: "Lab | None" = None


#: What in-process moto runs with, set while it runs and restored after. moto builds its own
#: botocore session (for the list of regions) on first use, which reads AWS_PROFILE and the
#: config files like any other: pointing it at nothing keeps your profile out of the lab.
#: None unsets the variable.
MOTO_ENVIRONMENT: dict[str, str | None] = {
    "AWS_PROFILE": None,
    "AWS_DEFAULT_PROFILE": None,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_DATA_PATH": None,
}


@functools.lru_cache(maxsize=1)
def _shared_loader() -> botocore.loaders.Loader:
    """One botocore data loader for every lab in the process, so each service model is read once.

    Only botocore's own models: the default search path also has ~/.aws/models, which is yours.
    """
    builtin = botocore.loaders.Loader.BUILTIN_DATA_PATH
    return botocore.loaders.Loader(extra_search_paths=[builtin], include_default_search_paths=False)


_BUILTIN_EVENTS: dict[int, botocore.hooks.HierarchicalEmitter] = {}


def _builtin_events() -> botocore.hooks.HierarchicalEmitter:
    """An event emitter holding botocore's builtin handlers (moto's among them), for a new session.

    A session registers its ~1,300 builtin handlers one by one, inspecting each handler's
    signature: about 20 ms, more than the rest of a lab's start. They are registered once and
    the emitter copied, as botocore itself copies a session's emitter for every client. Keyed by
    the length of the builtin list, which grows when moto is imported.
    """
    size = len(botocore.handlers.BUILTIN_HANDLERS)
    if size not in _BUILTIN_EVENTS:
        template = botocore.hooks.HierarchicalEmitter()
        botocore.session.Session(event_hooks=template)
        _BUILTIN_EVENTS[size] = template
    return copy.copy(_BUILTIN_EVENTS[size])


class _InProcessMoto:
    """moto's ``mock_aws`` plus :data:`MOTO_ENVIRONMENT`, started and stopped together."""

    def __init__(self) -> None:
        from moto import mock_aws

        self._mock = mock_aws()
        self._saved: dict[str, str | None] = {}

    def start(self) -> None:
        """Hide your AWS settings, then start moto (which sets its own fake keys on top)."""
        self._saved = {name: os.environ.get(name) for name in MOTO_ENVIRONMENT}
        _set_environment(MOTO_ENVIRONMENT)
        try:
            self._mock.start()
        except BaseException:
            _set_environment(self._saved)
            raise

    def stop(self) -> None:
        """Stop moto, then give your AWS settings back exactly as they were."""
        try:
            self._mock.stop()
        finally:
            _set_environment(self._saved)


def handler_environment(region: str, endpoint_url: str | None) -> dict[str, str | None]:
    """What a handler's own ``boto3.client(...)`` needs to reach the lab's AWS, set while the lab runs.

    Lambda's runtime gives every function ``AWS_REGION``; handlers written for AWS make their
    clients with no region and no endpoint, so the lab sets both. In-process moto intercepts
    every client anyway. With a local endpoint (a moto server, LocalStack) there is no
    interception: ``AWS_ENDPOINT_URL`` sends each client there, with fake keys, and nothing of
    yours (profile, config files, per-service endpoint overrides) is read. Real AWS: nothing.
    """
    if endpoint_url == REAL_AWS:
        return {}
    # moto answers only AWS's own hostnames: an endpoint override of yours would miss it.
    values: dict[str, str | None] = {name: None for name in os.environ if name.startswith("AWS_ENDPOINT_URL")}
    values.update({"AWS_REGION": region, "AWS_DEFAULT_REGION": region})
    if endpoint_url is None:
        return values
    values.update(MOTO_ENVIRONMENT)
    values.update({"AWS_ENDPOINT_URL": endpoint_url, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": None,
                   "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["aws_access_key_id"],
                   "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["aws_secret_access_key"],
                   "AWS_SESSION_TOKEN": None, "AWS_SECURITY_TOKEN": None})
    if is_local(endpoint_url):
        # As the lab's own clients do: traffic for this machine never goes to a proxy.
        host = urlparse(endpoint_url).hostname or "127.0.0.1"
        values["NO_PROXY"] = values["no_proxy"] = f"{host},localhost,127.0.0.1,::1"
    return values


def _set_environment(values: dict[str, str | None]) -> None:
    """Set each variable to its value, unsetting those whose value is None."""
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _check_settings(seed: Any, account_concurrency: Any, region: Any) -> None:
    """Refuse a seed, account limit or region the lab cannot run with (``ConfigurationError``)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigurationError(f"seed must be a whole number >= 0 (it seeds every random draw), got {seed!r}")
    if isinstance(account_concurrency, bool) or not isinstance(account_concurrency, int) \
            or account_concurrency < UNRESERVED_FLOOR:
        # Reserving anything must leave UNRESERVED_FLOOR unreserved, so a smaller account cannot work.
        raise ConfigurationError(
            f"account_concurrency must be a whole number >= {UNRESERVED_FLOOR} (AWS keeps {UNRESERVED_FLOOR} "
            f"executions unreserved), got {account_concurrency!r} ({CONCURRENCY_URL})")
    if region not in _regions():
        raise ConfigurationError(
            f"region must be an AWS region such as {REGION!r} (botocore's list has {len(_regions())}), "
            f"got {region!r} (https://docs.aws.amazon.com/general/latest/gr/lambda-service.html)")


@functools.lru_cache(maxsize=1)
def _regions() -> frozenset[str]:
    """Every region in botocore's endpoint data, all partitions (read once)."""
    data = _shared_loader().load_data("endpoints")
    return frozenset(region for partition in data["partitions"] for region in partition["regions"])


def _check_length(name: str, value: Any) -> None:
    """Refuse a run length that is not a finite number of virtual seconds >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
        raise ConfigurationError(f"{name} must be a finite number of virtual seconds >= 0, got {value!r}")


class Source(Protocol):
    """Anything that feeds a function (a poller, the async queue, a router)."""

    def pending(self) -> bool:
        """True while work waits, is in flight, or a retry is scheduled."""

    def stop(self) -> None:
        """Stop feeding the function."""


SourceT = TypeVar("SourceT", bound=Source)

#: ``lab.function`` options: the function's own, and its asynchronous-invocation settings.
_FUNCTION_KEYS = frozenset({"timeout_s", "memory_mb", "reserved_concurrency", "duration_ms", "init_duration_ms",
                            "memory_used_mb", "provisioned_concurrency"})
_ASYNC_KEYS = frozenset({"maximum_retry_attempts", "maximum_event_age_s", "on_success", "on_failure",
                         "dead_letter_arn", "duplicate_rate"})


@dataclass(frozen=True)
class RunSummary:
    """What ``run``/``run_until_idle`` did: virtual seconds run, invocations made, idle at the end."""

    ran_s: float
    invocations: int
    idle: bool


class Lab:
    """Moto, a virtual clock and a local Lambda service, seeded so every run repeats.

    ``Lab(seed=0)`` starts in-process moto with fake credentials in us-east-1.
    ``Lab(endpoint_url="http://127.0.0.1:5000")`` uses a moto server or LocalStack on
    this machine instead. Anything off this machine, including real AWS
    (``endpoint_url="aws"``), is refused unless ``allow_remote=True``.

    ``environment_idle_s`` (default None: environments are never retired, as in every chapter
    so far) retires an execution environment once it has been idle for that many virtual
    seconds, so the next invocation after such a gap is a cold start. AWS publishes no idle
    lifetime (its documentation says environments are kept "for some time" and eventually shut
    down), so the number is the lab's assumption; provisioned environments are never retired.
    """

    def __init__(
        self,
        seed: int = 0,
        *,
        endpoint_url: str | None = None,
        allow_remote: bool = False,
        account_concurrency: int = DEFAULT_ACCOUNT_CONCURRENCY,
        region: str = REGION,
        environment_idle_s: float | None = None,
    ):
        check_endpoint(endpoint_url, allow_remote)
        # Every setting is checked before anything starts: a refused Lab leaves no frozen
        # process clock, no moto and the previous lab as it was.
        _check_settings(seed, account_concurrency, region)
        Runtime.check_idle_lifetime(environment_idle_s)
        global _active
        if _active is not None:
            _active.close()  # re-running a chapter's setup cell starts from scratch
        self.seed = seed
        self.region = region
        self.account_id = ACCOUNT_ID
        self.endpoint_url = endpoint_url
        self.real_aws = endpoint_url == REAL_AWS
        # Held by every invoke, run and Runtime.execute: a server thread may drive the lab while
        # a notebook cell does, and moto is not thread-safe. Re-entrant: handlers call the lab.
        self.lock = threading.RLock()
        # The thread that made the lab (the notebook's): only its synchronous calls move time.
        self.thread_id = threading.get_ident()
        # Real AWS checks request signatures against the real time, so only the lab's own
        # scheduling is virtual there.
        self.clock = Clock(DEFAULT_START, patch_process=not self.real_aws)
        self.scheduler = Scheduler(self.clock)
        self.log = InvocationLog()
        self.ledger = Ledger(self.clock.elapsed)
        self.sends = SendLog()
        # Looks at every queue once a virtual minute for lab.metrics(); it reads moto, never changes it.
        self.queue_sampler = QueueSampler(self)
        self.faults = Faults()
        self.runtime = Runtime(self, account_concurrency=account_concurrency, rng=random.Random(seed + 1),
                               environment_idle_s=environment_idle_s)
        self.sources: list[Source] = []
        self._clients: dict[str, Any] = {}
        self._async_queue = None
        self._schema_registries: dict[str, Any] = {}  # bus -> lambda_lab.schemas.Registry (lab.schemas)
        self._mock = None
        handler_env = handler_environment(region, endpoint_url)
        self._saved_environment = {name: os.environ.get(name) for name in handler_env}
        _set_environment(handler_env)
        if endpoint_url is None:
            try:
                self._start_moto()  # before the session: moto hooks sessions created after it starts
            except BaseException:
                _set_environment(self._saved_environment)
                raise
        self._session = self._make_session()
        self._seed_moto()
        self.queue_sampler.start()
        self.calls = CallRecorder(self)  # what each handler calls on AWS, for the export's IAM policies
        self._closing: list[Callable[[], Any]] = []
        _active = self

    # --- AWS side ------------------------------------------------------------------
    def _make_session(self) -> boto3.session.Session:
        if self.real_aws:
            return boto3.session.Session(region_name=self.region)
        # Cut botocore off from ~/.aws and AWS_* variables (profile, keys, endpoint
        # overrides), so no setting of yours is read and nothing is sent elsewhere.
        isolated = {
            "profile": (None, None, None, None),
            "config_file": (None, None, os.devnull, None),
            "credentials_file": (None, None, os.devnull, None),
            "ignore_configured_endpoint_urls": (None, None, True, None),
        }
        core = botocore.session.Session(session_vars=isolated, event_hooks=_builtin_events(),
                                        include_builtin_handlers=False)
        # Parsing service models is most of a client's cost; the loader only caches read-only data.
        core.register_component("data_loader", _shared_loader())
        if self._loopback():
            # An empty proxy map, unlike None, stops botocore reading HTTP(S)_PROXY: traffic for
            # this machine must not go to a proxy on another. Each client's Config merges over this.
            core.set_default_client_config(botocore.config.Config(proxies={}))
        return boto3.session.Session(botocore_session=core, region_name=self.region, **FAKE_CREDENTIALS)

    def _loopback(self) -> bool:
        """True when every request stays on this machine: in-process moto or a loopback endpoint."""
        return self.endpoint_url is None or is_local(self.endpoint_url)

    def _start_moto(self) -> None:
        self._mock = _InProcessMoto()
        self._mock.start()

    def _seed_moto(self) -> None:
        """Make moto's ids (MessageId, RequestId, ...) repeat run to run."""
        if self.real_aws:
            return
        if self.endpoint_url is None:
            # What moto's /moto-api/seed does, without an HTTP request (requests would read ~/.netrc).
            from moto.moto_api._internal import mock_random

            mock_random.seed(self.seed)
            return
        self._seed_server()

    def _seed_server(self) -> None:
        """Seed a moto server through its API; ignore a server that has none (LocalStack)."""
        import requests

        url = f"{self.endpoint_url}/moto-api/seed?a={self.seed}"
        # The proxies the lab's clients use (none for this machine), and nothing else of the
        # environment: trust_env would also read ~/.netrc and send what it finds there.
        proxies = {} if self._loopback() else botocore.utils.get_environ_proxies(url)
        with requests.Session() as http:
            http.trust_env = False
            try:
                http.post(url, timeout=5, proxies=proxies)
            except requests.RequestException:
                pass  # not a moto server (LocalStack): its ids will differ run to run

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` bound to the lab's endpoint, region and credentials."""
        with self.lock:  # one client per service, even when a server thread asks first
            return self._client(service)

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            config = botocore.config.Config(
                # botocore 1.44 sends DynamoDB Streams calls to an account-specific host
                # that moto does not route (reference/moto-audit.md §5).
                account_id_endpoint_mode="disabled",
                retries={"max_attempts": 1, "mode": "standard"},
            )
            endpoint = None if self.real_aws else self.endpoint_url
            self._clients[service] = self._session.client(service, endpoint_url=endpoint, config=config)
            if service == "sns":  # refuses Protocol=lambda (moto's Docker path), checks message sizes
                from .sources.sns import guard_client

                guard_client(self, self._clients[service])
            elif service == "events":  # the lab answers PutEvents and TestEventPattern (moto cannot deliver)
                from .sources.eventbridge import service as eventbridge

                eventbridge(self)
        return self._clients[service]

    def client_events(self, service: str) -> list[Any]:
        """Where a source listens to calls on ``service``: the lab's client, and the clients handlers make.

        A handler written for AWS makes its own ``boto3.client(...)``/``boto3.resource(...)`` on
        boto3's default session; a client copies its session's hooks when it is made, so a hook on
        that session reaches every client made after it (handlers make theirs as they run).
        """
        return [self.client(service).meta.events, self.handler_session_events()]

    def handler_session_events(self) -> Any:
        """The hooks of boto3's default session, where handlers make their own clients (every service)."""
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        return boto3.DEFAULT_SESSION.events

    def on_close(self, callback: Callable[[], Any]) -> None:
        """Run ``callback`` when the lab closes (hooks it put outside itself, such as on boto3's default session)."""
        self._closing.append(callback)

    def arn(self, service: str, resource: str) -> str:
        """An ARN in the lab's account and region, e.g. ``lab.arn("sqs", "orders")``."""
        return f"arn:aws:{service}:{self.region}:{self.account_id}:{resource}"

    # --- functions -----------------------------------------------------------------
    def function(self, name: str, handler: Handler, **options: Any) -> Function:
        """Register ``handler(event, context)`` as function ``name`` (re-registering replaces it).

        Options: ``timeout_s`` (1-900, default 3), ``memory_mb`` (128-10,240, default 128),
        ``reserved_concurrency``, ``provisioned_concurrency`` (environments initialised ahead of
        time: never cold, never retired), ``duration_ms`` and ``init_duration_ms`` (a number, a
        ``durations.Uniform``/``LogNormal``, or ``f(event) -> ms``), ``memory_used_mb``;
        asynchronous-invocation settings (``maximum_retry_attempts``,
        ``maximum_event_age_s``, ``on_success``, ``on_failure``, ``dead_letter_arn``,
        ``duplicate_rate``).
        """
        async_options = {k: options.pop(k) for k in list(options) if k in _ASYNC_KEYS}
        unknown = sorted(set(options) - _FUNCTION_KEYS)
        if unknown:
            raise ConfigurationError(f"unknown option(s) {', '.join(unknown)} for lab.function; the options are "
                                     f"{', '.join(sorted(_FUNCTION_KEYS | _ASYNC_KEYS))}")
        # Check everything before changing anything: a refused function leaves the lab as it was.
        fn = Function(self, name, handler, **options)
        self.runtime.check_reservation(fn)
        if async_options:
            fn.configure_async(**async_options)  # validates before it stores
        elif self._async_queue is not None:
            self._async_queue.configs.pop(name, None)  # re-registering replaces the async settings too
        return self.runtime.register(fn)

    @property
    def async_queue(self) -> Any:
        """Lambda's internal queue for asynchronous invocations (created on first use)."""
        if self._async_queue is None:
            from .sources.async_queue import AsyncQueue

            self._async_queue = self.add_source(AsyncQueue(self))
        return self._async_queue

    def outcomes(self, function: str | None = None, source: str | None = None) -> Any:
        """Where every accepted item ended: one row per item and consumer (a pandas DataFrame).

        Columns: ``source``, ``item``, ``function``, ``copy`` (2 for an at-least-once
        duplicate), ``accepted`` and ``ended`` (seconds since the lab started),
        ``attempts``, ``ending`` (processed, dead_letter, destination, dropped, failed, or
        pending while in flight), ``where`` (the queue, topic, bus or function it went to,
        or AWS's reason for a drop), ``layer`` (the retry layer that decided) and
        ``request_id`` (asynchronous events).
        """
        return self.ledger.to_frame(function=function, source=source)

    def metrics(self, period_s: int = CLOUDWATCH_PERIOD_S, dimension: str | None = None) -> Any:
        """CloudWatch metrics of the run so far, one row per datapoint (a pandas DataFrame).

        Columns: ``namespace`` (``AWS/Lambda``, ``AWS/SQS``), ``metric`` (AWS's name, such as
        ``Invocations`` or ``ApproximateAgeOfOldestMessage``), ``dimension`` (the function or
        queue name), ``period`` (its start, seconds since the lab started), ``statistic``
        (``Sum``, ``Average``, ``Maximum``, ``p99``) and ``value``. ``period_s`` is a multiple
        of 60; a period with no data has no row, as in CloudWatch. ``dimension`` keeps one
        function's or queue's rows. Definitions and simplifications: ``lambda_lab.metrics``.
        """
        with self.lock:
            return compute_metrics(self, period_s, dimension=dimension)

    # --- event sources -------------------------------------------------------------
    def add_source(self, source: SourceT) -> SourceT:
        """Track a source so ``run_until_idle`` waits for it and ``close`` stops it."""
        self.sources.append(source)
        return source

    def sqs_trigger(self, queue_url: str, fn: Function, **options: Any) -> Any:
        """An SQS event source mapping: poll ``queue_url`` and invoke ``fn`` with batches."""
        from .sources.sqs import SqsEventSourceMapping

        self._check_trigger("queue_url", queue_url, fn)
        if not isinstance(options.get("enabled", True), bool):
            raise ConfigurationError(f"enabled must be True or False, got {options['enabled']!r} ({ESM_URL})")
        return self.add_source(SqsEventSourceMapping(self, queue_url, fn, **options))

    def s3_trigger(self, bucket: str, fn: Function, **options: Any) -> Any:
        """An S3 event notification that invokes ``fn`` asynchronously."""
        from .sources.s3 import S3Notification

        self._check_trigger("bucket", bucket, fn)
        return self.add_source(S3Notification(self, bucket, fn, **options))

    def sns_trigger(self, topic_arn: str, fn: Function, filter_policy: dict[str, Any] | str | None = None,
                    filter_policy_scope: str = "MessageAttributes", dead_letter_arn: str | None = None) -> Any:
        """An SNS subscription (protocol ``lambda``) of ``fn`` to a standard topic; SNS invokes it asynchronously.

        ``filter_policy`` (a dict or its JSON) applies to ``filter_policy_scope``
        (``MessageAttributes`` or ``MessageBody``); ``dead_letter_arn`` is the subscription's
        dead-letter queue (an SQS queue ARN, its ``RedrivePolicy``) for what SNS cannot deliver.
        """
        from .sources.sns import SnsSubscription

        self._check_trigger("topic_arn", topic_arn, fn)
        return self.add_source(SnsSubscription(self, topic_arn, fn, filter_policy=filter_policy,
                                               filter_policy_scope=filter_policy_scope,
                                               dead_letter_arn=dead_letter_arn))

    def http_api(self, routes: dict[str, Function], **options: Any) -> Any:
        """An API Gateway HTTP API (payload 2.0) whose routes invoke functions through the Lambda proxy.

        ``routes`` maps route keys (``"GET /users/{userId}"``, ``"ANY /{proxy+}"``, ``"$default"``)
        to functions. The API has an in-notebook client (``api.get(path)``, ``api.post(...)``) and
        ``api.serve()`` starts a real HTTP server on 127.0.0.1. Options: ``lambda_lab.sources.apigateway.http_api``.
        """
        from .sources.apigateway import http_api

        return http_api(self, routes, **options)

    def rest_api(self, routes: dict[str, Function], stage: str = "prod", **options: Any) -> Any:
        """An API Gateway REST API (Lambda proxy, payload 1.0) deployed to ``stage``, as ``http_api`` otherwise."""
        from .sources.apigateway import rest_api

        return rest_api(self, routes, stage, **options)

    def stream_trigger(self, stream_arn: str, fn: Function, **options: Any) -> Any:
        """A DynamoDB Streams event source mapping: read ``stream_arn`` shard by shard, invoke ``fn`` with batches.

        Options mirror CreateEventSourceMapping (``lambda_lab.sources.dynamodb``): ``batch_size``,
        ``starting_position`` (LATEST by default, or TRIM_HORIZON), ``maximum_batching_window_s``,
        ``bisect_batch_on_function_error``, ``maximum_retry_attempts``, ``maximum_record_age_s``,
        ``parallelization_factor``, ``on_failure``, ``report_batch_item_failures``,
        ``tumbling_window_s``, ``filter_patterns`` and ``enabled``.
        """
        from .sources.dynamodb import StreamEventSourceMapping

        self._check_trigger("stream_arn", stream_arn, fn)
        return self.add_source(StreamEventSourceMapping(self, stream_arn, fn, **options))

    def expire_ttl(self, table: str) -> int:
        """Delete the items of ``table`` whose TTL has passed, as DynamoDB's TTL would; return how many.

        moto never does (its TTL is a setting only); the stream records these deletes with
        the service's ``userIdentity``, as AWS does.
        """
        from .sources.dynamodb import expire_ttl

        with self.lock:
            return expire_ttl(self, table)

    @property
    def eventbridge(self) -> Any:
        """The lab's EventBridge: every event put on a bus (``events``), every hand-off (``handoffs``)."""
        from .sources.eventbridge import service

        return service(self)

    def emit_aws_event(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Put an AWS service event on the default bus, as the service would (PutEvents refuses ``aws.`` sources).

        ``kind``: ``"health"``, ``"ec2-state-change"`` or ``"s3-object-created"``, built from AWS's
        documented samples (``lambda_lab.events.eventbridge.service_event``); returns the event.
        """
        from .sources.eventbridge import service

        with self.lock:
            return service(self).emit(kind, **fields)

    def schemas(self, bus: str = "default") -> Any:
        """Schema discovery on ``bus``: schemas inferred from every event put on it so far (``lambda_lab.schemas``).

        Each call reads the events that arrived since the last one; a schema gets a new version when
        they change it (a producer added a field). ``registry.get(source, detail_type).bindings(folder)``
        writes Python bindings that round-trip the events.
        """
        from .schemas import Registry

        with self.lock:
            registry = self._schema_registries.setdefault(bus, Registry(bus=bus))
            registry.sync(self.eventbridge.events)
            return registry

    def test_event_pattern(self, pattern: dict[str, Any] | str, event: dict[str, Any] | str) -> bool:
        """Does ``event`` match ``pattern``? Answered as EventBridge's TestEventPattern API answers it."""
        def text(value: Any) -> str:
            return value if isinstance(value, str) else json.dumps(value)

        return self.client("events").test_event_pattern(EventPattern=text(pattern), Event=text(event))["Result"]

    # --- to the cloud ----------------------------------------------------------------
    def to_sam(self, path: Any, **options: Any) -> Any:
        """Write what the lab has wired as a deployable AWS SAM project in ``path``; return the folder.

        ``template.yaml`` (functions, their triggers in SAM's property names, the queues, topics,
        tables, buckets and buses they use, never the lab's own plumbing), one code folder per
        function and ``export-report.json``. A handler that is a lambda or reads notebook state is
        refused unless ``stub_unexportable=True`` (``lambda_lab.cloud.sam``).
        """
        from .cloud import to_sam

        with self.lock:
            return to_sam(self, path, **options)

    def _check_trigger(self, what: str, name: Any, fn: Any) -> None:
        """Refuse a trigger without a source name or without a function of this lab."""
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"{what} must be a non-empty string, got {name!r}")
        if not isinstance(fn, Function) or fn.lab is not self:
            raise ConfigurationError(f"the function to trigger must come from this lab's lab.function(...), got {fn!r}")

    # --- time ----------------------------------------------------------------------
    def run(self, for_s: float) -> RunSummary:
        """Run the work due in the next ``for_s`` virtual seconds (pollers, retries, timers)."""
        _check_length("run(for_s)", for_s)
        with self.lock:
            before = len(self.log)
            self.scheduler.run_until(self.clock.now() + for_s)
            return RunSummary(ran_s=for_s, invocations=len(self.log) - before, idle=not self.busy())

    def run_until_idle(self, max_s: float = 3_600) -> RunSummary:
        """Run until nothing waits, is in flight or is scheduled to retry, or ``max_s`` passes."""
        _check_length("run_until_idle(max_s)", max_s)
        with self.lock:
            start, before = self.clock.now(), len(self.log)
            deadline = start + max_s
            while self.busy():
                due = self.scheduler.next_due()
                if due is None or due > deadline:
                    break
                self.scheduler.run_next()
            idle = not self.busy()
            if not idle:
                self.clock.advance_to(deadline)
            return RunSummary(ran_s=round(self.clock.now() - start, 3), invocations=len(self.log) - before,
                              idle=idle)

    def busy(self) -> bool:
        """True while any source has work waiting, in flight, or scheduled."""
        with self.lock:
            return any(source.pending() for source in self.sources)

    # --- lifecycle -----------------------------------------------------------------
    def close(self) -> None:
        """Stop sources, moto and the virtual clock (safe to call twice)."""
        global _active
        with self.lock:  # waits for a request another thread is serving
            for source in self.sources:
                source.stop()
            self.sources.clear()
            self.queue_sampler.stop()
            self.calls.stop()
            for callback in self._closing:
                callback()
            self._closing.clear()
            if self._mock is not None:
                self._mock.stop()
                self._mock = None
            _set_environment(self._saved_environment)
            self._saved_environment = {}
            self.clock.stop()
            if _active is self:
                _active = None

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = self.endpoint_url or "in-process moto"
        return f"Lab(seed={self.seed}, region={self.region!r}, endpoint={where!r}, t={self.clock.elapsed():.3f}s)"
