"""``Lab``: the one object a chapter makes. It owns moto, the clock, functions, sources and the log."""

from __future__ import annotations

import functools
import os
import random
import threading
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import boto3
import botocore.config
import botocore.loaders
import botocore.session

from .clock import DEFAULT_START, Clock, Scheduler
from .endpoints import REAL_AWS, check_endpoint
from .delivery import Faults, SendLog
from .ledger import Ledger
from .limits import CLOUDWATCH_PERIOD_S
from .log import InvocationLog
from .metrics import QueueSampler, compute as compute_metrics
from .runtime import DEFAULT_ACCOUNT_CONCURRENCY, Function, Handler, Runtime

#: moto's account id; every ARN in the lab uses it.
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
#: Fake credentials: the lab never reads yours unless you opt in to real AWS.
FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

_active: "Lab | None" = None


@functools.lru_cache(maxsize=1)
def _shared_loader() -> botocore.loaders.Loader:
    """One botocore data loader for every lab in the process, so each service model is read once."""
    return botocore.loaders.create_loader()


class Source(Protocol):
    """Anything that feeds a function (a poller, the async queue, a router)."""

    def pending(self) -> bool:
        """True while work waits, is in flight, or a retry is scheduled."""

    def stop(self) -> None:
        """Stop feeding the function."""


SourceT = TypeVar("SourceT", bound=Source)


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
    """

    def __init__(
        self,
        seed: int = 0,
        *,
        endpoint_url: str | None = None,
        allow_remote: bool = False,
        account_concurrency: int = DEFAULT_ACCOUNT_CONCURRENCY,
        region: str = REGION,
    ):
        check_endpoint(endpoint_url, allow_remote)
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
        self.runtime = Runtime(self, account_concurrency=account_concurrency, rng=random.Random(seed + 1))
        self.sources: list[Source] = []
        self._clients: dict[str, Any] = {}
        self._async_queue = None
        self._mock = None
        if endpoint_url is None:
            self._start_moto()  # before the session: moto hooks sessions created after it starts
        self._session = self._make_session()
        self._seed_moto()
        self.queue_sampler.start()
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
        core = botocore.session.Session(session_vars=isolated)
        # Parsing service models is most of a client's cost; the loader only caches read-only data.
        core.register_component("data_loader", _shared_loader())
        return boto3.session.Session(botocore_session=core, region_name=self.region, **FAKE_CREDENTIALS)

    def _start_moto(self) -> None:
        from moto import mock_aws

        self._mock = mock_aws()
        self._mock.start()

    def _seed_moto(self) -> None:
        """Make moto's ids (MessageId, RequestId, ...) repeat run to run."""
        if self.real_aws:
            return
        import requests

        base = self.endpoint_url or "http://motoapi.amazonaws.com"
        try:
            requests.post(f"{base}/moto-api/seed?a={self.seed}", timeout=5)
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
        return self._clients[service]

    def arn(self, service: str, resource: str) -> str:
        """An ARN in the lab's account and region, e.g. ``lab.arn("sqs", "orders")``."""
        return f"arn:aws:{service}:{self.region}:{self.account_id}:{resource}"

    # --- functions -----------------------------------------------------------------
    def function(self, name: str, handler: Handler, **options: Any) -> Function:
        """Register ``handler(event, context)`` as function ``name`` (re-registering replaces it).

        Options: ``timeout_s`` (1-900, default 3), ``memory_mb`` (128-10,240, default 128),
        ``reserved_concurrency``, ``duration_ms`` and ``init_duration_ms`` (a number, a
        ``durations.Uniform``/``LogNormal``, or ``f(event) -> ms``), ``memory_used_mb``;
        asynchronous-invocation settings (``maximum_retry_attempts``,
        ``maximum_event_age_s``, ``on_success``, ``on_failure``, ``dead_letter_arn``,
        ``duplicate_rate``).
        """
        async_keys = {"maximum_retry_attempts", "maximum_event_age_s", "on_success", "on_failure",
                      "dead_letter_arn", "duplicate_rate"}
        async_options = {k: options.pop(k) for k in list(options) if k in async_keys}
        fn = self.runtime.register(Function(self, name, handler, **options))
        if async_options:
            fn.configure_async(**async_options)
        return fn

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

        return self.add_source(SqsEventSourceMapping(self, queue_url, fn, **options))

    def s3_trigger(self, bucket: str, fn: Function, **options: Any) -> Any:
        """An S3 event notification that invokes ``fn`` asynchronously."""
        from .sources.s3 import S3Notification

        return self.add_source(S3Notification(self, bucket, fn, **options))

    # --- time ----------------------------------------------------------------------
    def run(self, for_s: float) -> RunSummary:
        """Run the work due in the next ``for_s`` virtual seconds (pollers, retries, timers)."""
        with self.lock:
            before = len(self.log)
            self.scheduler.run_until(self.clock.now() + for_s)
            return RunSummary(ran_s=for_s, invocations=len(self.log) - before, idle=not self.busy())

    def run_until_idle(self, max_s: float = 3_600) -> RunSummary:
        """Run until nothing waits, is in flight or is scheduled to retry, or ``max_s`` passes."""
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
            if self._mock is not None:
                self._mock.stop()
                self._mock = None
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
