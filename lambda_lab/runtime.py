"""The local Lambda runtime: functions, execution environments, concurrency and logs.

A handler is a plain ``handler(event, context)``. The lab calls it in-process, then
places the invocation on the virtual clock: it starts when the caller (a poller, the
async queue, your cell) asks, lasts ``init_duration_ms`` (cold starts only) plus
``duration_ms``, and holds an execution environment for that long. Concurrency is the
number of environments busy at an instant, as in AWS.

Time. A synchronous call (``fn.invoke``, ``fn.invoke_concurrently``) starts at the current
virtual instant; who moves the clock afterwards depends on the caller:

* From a notebook cell (the lab's own thread, outside any handler or scheduled task) the call
  runs everything scheduled before its end, in time order, and leaves the clock at its end,
  as ``lab.scheduler.run_until(end)`` would: nothing due is ever skipped.
* From inside a handler (a nested call, ``runtime.current_depth() > 0``) or a scheduled task
  it does not move the clock or run other scheduled work: re-entering the scheduler there
  would run unrelated work in the middle of a handler. Its environment stays busy until its
  end, so concurrency and throttles count it.
* From another thread (an HTTP server) it does not move the clock either: concurrent requests
  overlap in virtual time instead of queueing behind each other, so concurrency limits and
  throttles apply to them as on AWS. The lab's own thread moves time (``lab.run``).

Threads. ``lab.lock`` (an ``RLock``) is held by every invoke and by ``Runtime.execute``, so
handlers run one at a time (moto is not thread-safe) and can still call the lab again. The
chain depth is a ``ContextVar``, so each thread has its own. ``print``, ``sys.stderr`` and
``logging`` are captured per thread: what the thread running a handler writes goes to that
invocation's log; what any other thread writes goes where it would without the lab.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import copy
import io
import json
import logging
import math
import numbers
import random
import re
import sys
import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from .clock import iso_utc
from .context import LambdaContext
from .durations import Duration, check_duration, draw_ms
from . import ledger as L
from . import limits
from .errors import (ConfigurationError, InvalidRequestContentException, RequestEntityTooLargeException,
                     TooManyRequestsException)
from .limits import check_range
from .log import Invocation

if TYPE_CHECKING:
    from .lab import Lab

Handler = Callable[[Any, LambdaContext], Any]

#: Kept because ``lab.py`` imports it; the number and its source are in ``limits``.
DEFAULT_ACCOUNT_CONCURRENCY = limits.ACCOUNT_CONCURRENCY


@dataclass
class Environment:
    """One execution environment: busy until ``busy_until`` (epoch seconds)."""

    env_id: int
    function: str
    log_stream_name: str
    busy_until: float = 0.0
    invocations: int = 0
    #: The runtime process exited (Runtime.ExitError): AWS never reuses this environment.
    exited: bool = False
    #: Initialised ahead of time for the function's provisioned concurrency: never a cold start,
    #: never retired for being idle.
    provisioned: bool = False
    #: Shut down after an idle gap of at least ``Lab(environment_idle_s=...)`` (the lab's assumption).
    retired: bool = False


@dataclass
class InvokeResult:
    """What a synchronous Invoke returns: status, payload, function error, log tail."""

    status_code: int
    payload: Any
    function_error: str | None
    request_id: str
    log: str = field(repr=False)
    invocation: Invocation = field(repr=False)
    executed_version: str = "$LATEST"


#: Position in a chain of invocations of the handler running in this thread/context (0: none).
_CHAIN_DEPTH: contextvars.ContextVar[int] = contextvars.ContextVar("lambda_lab_chain_depth", default=0)
#: The function whose handler is running in this thread/context (None: none), for what it calls.
_RUNNING: contextvars.ContextVar[str | None] = contextvars.ContextVar("lambda_lab_running_function", default=None)


def running_function() -> str | None:
    """The name of the function whose handler is running in this thread now, or None."""
    return _RUNNING.get()


def _holding_lab_lock(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``method`` with ``self.lab.lock`` held: moto and the lab's state are not thread-safe.

    A decorator, so a long method (``Runtime.execute``) keeps its body as it is.
    """

    @functools.wraps(method)
    def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        with self.lab.lock:
            return method(self, *args, **kwargs)

    return locked


@dataclass
class _Sink:
    """Where one invocation's output goes, and what its log lines are stamped with."""

    out: io.StringIO
    request_id: str
    clock_iso: Callable[[], str]


class _ThreadStream:
    """Stands in for ``sys.stdout``/``sys.stderr`` while handlers run.

    A write from a thread running a handler goes to that handler's invocation; a write from
    any other thread goes to the stream that was there before (``contextlib.redirect_stdout``
    would swap it for every thread, capturing the notebook's own prints).
    """

    def __init__(self, capture: "_Capture", original: Any):
        self._capture, self.original = capture, original

    def write(self, text: str) -> int:
        sink = self._capture.sink(threading.get_ident())
        return sink.out.write(text) if sink else self.original.write(text)

    def flush(self) -> None:
        if self._capture.sink(threading.get_ident()) is None:
            self.original.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.original, name)  # encoding, isatty, fileno, ... of the real stream


class _LambdaLogHandler(logging.Handler):
    """Formats ``logging`` records as the Python runtime does: level, time, request id.

    Only records emitted by a thread running a handler are formatted, into that invocation.
    """

    def __init__(self, capture: "_Capture"):
        super().__init__()
        self._capture = capture

    def emit(self, record: logging.LogRecord) -> None:
        sink = self._capture.sink(record.thread if record.thread is not None else threading.get_ident())
        if sink is None:
            self._as_without_lab(record)
            return
        sink.out.write(f"[{record.levelname}]\t{sink.clock_iso()}\t{sink.request_id}\t{record.getMessage()}\n")

    def _as_without_lab(self, record: logging.LogRecord) -> None:
        """Another thread's record: if only this handler saw it, show it as Python would (lastResort)."""
        logger: logging.Logger | None = logging.getLogger(record.name)
        while logger is not None:
            if any(h is not self for h in logger.handlers):
                return  # someone else handles it
            logger = logger.parent if logger.propagate else None
        last = logging.lastResort
        if last is not None and record.levelno >= last.level:
            last.handle(record)


class _Capture:
    """Per-thread capture of print and logging for the handlers running now (one per process).

    While any handler runs, ``sys.stdout``/``sys.stderr`` are ``_ThreadStream`` proxies and the
    root logger has one ``_LambdaLogHandler``; each thread has a stack of sinks (nested
    invocations), the innermost receiving its output.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sinks: dict[int, list[_Sink]] = {}
        self._streams: tuple[_ThreadStream, _ThreadStream] | None = None
        self._log_handler = _LambdaLogHandler(self)

    def sink(self, thread_id: int) -> _Sink | None:
        """The innermost invocation capturing ``thread_id``'s output, or None."""
        # No lock: only the owning thread pushes and pops its own stack, and dict.get is atomic.
        stack = self._sinks.get(thread_id)
        return stack[-1] if stack else None

    @contextlib.contextmanager
    def into(self, sink: _Sink) -> Iterator[None]:
        """Send this thread's print and logging output to ``sink`` for the ``with`` block."""
        ident = threading.get_ident()
        with self._lock:
            if not self._sinks:
                self._install()
            self._sinks.setdefault(ident, []).append(sink)
        try:
            yield
        finally:
            with self._lock:
                stack = self._sinks[ident]
                stack.pop()
                if not stack:
                    del self._sinks[ident]
                if not self._sinks:
                    self._uninstall()

    def _install(self) -> None:
        self._streams = (_ThreadStream(self, sys.stdout), _ThreadStream(self, sys.stderr))
        sys.stdout, sys.stderr = self._streams
        logging.getLogger().addHandler(self._log_handler)

    def _uninstall(self) -> None:
        logging.getLogger().removeHandler(self._log_handler)
        out, err = self._streams or (None, None)
        # Put back only what is still ours: a handler that swapped a stream itself keeps its swap.
        if out is not None and sys.stdout is out:
            sys.stdout = out.original
        if err is not None and sys.stderr is err:
            sys.stderr = err.original
        self._streams = None


_CAPTURE = _Capture()


class Function:
    """A registered function. Create it with ``lab.function(...)``, not directly."""

    def __init__(
        self,
        lab: "Lab",
        name: str,
        handler: Handler,
        *,
        timeout_s: float = limits.FUNCTION_TIMEOUT_DEFAULT_S,
        memory_mb: int = limits.FUNCTION_MEMORY_DEFAULT_MB,
        reserved_concurrency: int | None = None,
        duration_ms: Duration = 100.0,
        init_duration_ms: Duration = 180.0,
        memory_used_mb: int = 40,
        provisioned_concurrency: int = limits.PROVISIONED_CONCURRENCY_MIN,
    ):
        check_function_name(name)
        if not callable(handler):
            raise ConfigurationError(f"handler for {name!r} must be callable as handler(event, context)")
        # CreateFunction's Timeout is an integer: 1.5 s is refused, as AWS refuses it. Only a
        # fraction is told "a whole number", so chapters' stored messages for ints stay as they are.
        check_range("Timeout", timeout_s, limits.FUNCTION_TIMEOUT_MIN_S, limits.FUNCTION_TIMEOUT_MAX_S,
                    unit="seconds", url=limits.QUOTAS_URL, integer=_fractional(timeout_s))
        check_range("MemorySize", memory_mb, limits.FUNCTION_MEMORY_MIN_MB, limits.FUNCTION_MEMORY_MAX_MB,
                    unit="MB", url=limits.QUOTAS_URL, integer=True)
        check_duration("duration_ms", duration_ms)
        check_duration("init_duration_ms", init_duration_ms)
        # The REPORT line's "Max Memory Used" can never exceed the memory the function has.
        check_range("memory_used_mb", memory_used_mb, 0, memory_mb, unit="MB", integer=True,
                    url=limits.QUOTAS_URL)
        self.lab = lab
        self.name = name
        self.handler = handler
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.reserved_concurrency = reserved_concurrency
        #: Environments initialised when the function is registered (``Runtime.check_reservation``
        #: checks the number): invocations landing on them are never cold starts.
        self.provisioned_concurrency = provisioned_concurrency
        self.duration_ms = duration_ms
        self.init_duration_ms = init_duration_ms
        self.memory_used_mb = memory_used_mb
        self.version = "$LATEST"
        self.environments: list[Environment] = []
        self.log_lines: list[str] = []

    @property
    def arn(self) -> str:
        """The function ARN, as AWS prints it."""
        return f"arn:aws:lambda:{self.lab.region}:{self.lab.account_id}:function:{self.name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.name}"

    def invoke(self, event: Any) -> InvokeResult:
        """Synchronous invocation: run now, wait (on the virtual clock) and return the response.

        It starts at the current virtual instant. From a notebook cell it then runs everything
        scheduled before its end, in time order, and leaves the clock at its end. From inside a
        handler (nested) or from another thread it does not move the clock, and its environment
        stays busy until its end (module docstring: "Time").

        A throttle raises ``TooManyRequestsException`` (HTTP 429), as the Invoke API does;
        Lambda never retries a synchronous call for you.
        """
        check_request(event, limits.SYNC_PAYLOAD_MAX_BYTES, "RequestResponse")
        with self.lab.lock:  # in the body, not a decorator: one frame less in a learner's traceback
            inv = self._record(self.lab.runtime.execute(self, event, source="invoke", depth=self._depth()))
            if inv.outcome == "throttled":
                raise self.lab.runtime.throttle_error(self, inv)
            self._wait_until(inv.end_s)
            return _to_result(inv)

    def invoke_concurrently(self, events: Iterable[Any]) -> list[InvokeResult | TooManyRequestsException]:
        """Send several synchronous invocations at the same instant (a burst of callers).

        Returns one entry per event: the response, or the throttle error that caller got.
        The clock moves as for ``invoke``: from a notebook cell, everything scheduled before
        the last call ends runs in time order and the clock stops at that end; nested or from
        another thread, the clock stays where it is.
        """
        events = list(events)
        for event in events:  # every request is checked before any runs, as each is its own Invoke
            check_request(event, limits.SYNC_PAYLOAD_MAX_BYTES, "RequestResponse")
        with self.lab.lock:
            runs = [self._record(self.lab.runtime.execute(self, event, source="invoke", depth=self._depth()))
                    for event in events]
            results = [self.lab.runtime.throttle_error(self, inv) if inv.outcome == "throttled" else _to_result(inv)
                       for inv in runs]
            ends = [inv.end_s for inv in runs if inv.outcome != "throttled"]
            self._wait_until(max(ends, default=self.lab.clock.now()))
            return results

    def _record(self, inv: Invocation) -> Invocation:
        """A synchronous request ends when the caller has its answer: processed, or failed (it knows)."""
        ledger = self.lab.ledger
        entry = ledger.accept("invoke", inv.request_id, self.name)
        ledger.attempt(entry)
        if inv.outcome == "success":
            ledger.end(entry, L.PROCESSED, self.name, L.CALLER, ended_s=inv.end)
        else:
            status = "429 TooManyRequestsException" if inv.outcome == "throttled" else f"Unhandled {inv.error_type}"
            ledger.end(entry, L.FAILED, f"{status} returned to the caller", L.CALLER, ended_s=inv.end)
        return inv

    def _depth(self) -> int:
        """Chain position of a synchronous call made now: one deeper than the caller (1 from a cell)."""
        return self.lab.runtime.current_depth() + 1

    def _wait_until(self, end_s: float) -> None:
        """Let the caller wait until ``end_s`` (epoch s), if it is the one that moves time."""
        if self.lab.runtime.caller_moves_clock():
            self.lab.scheduler.run_until(end_s)  # what is due meanwhile runs, in time order

    def invoke_async(self, event: Any, **options: Any) -> Any:
        """Asynchronous invocation (``InvocationType=Event``): queue the event, return at once.

        A request that is not JSON, or larger than 1 MB, is refused before it is queued.
        """
        check_request(event, limits.ASYNC_PAYLOAD_MAX_BYTES, "Event")
        with self.lab.lock:
            return self.lab.async_queue.submit(self, event, **options)

    def configure_async(self, **options: Any) -> None:
        """Set retries, maximum event age and destinations for asynchronous invocations."""
        self.lab.async_queue.configure(self, **options)

    def logs(self) -> str:
        """Everything this function wrote, CloudWatch style (START/END/REPORT per invocation)."""
        return "".join(self.log_lines)

    def __repr__(self) -> str:
        return f"Function({self.name!r}, timeout_s={self.timeout_s}, memory_mb={self.memory_mb})"


_FUNCTION_NAME = re.compile(limits.FUNCTION_NAME_PATTERN)


def _fractional(value: Any) -> bool:
    """True for a real number that is not an integer type (1.5, 3.0), not for 3, True or "3"."""
    return isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral)


def check_function_name(name: Any) -> None:
    """Refuse a function name CreateFunction refuses: 1-64 letters, digits, hyphens, underscores."""
    if not isinstance(name, str) or not _FUNCTION_NAME.fullmatch(name):
        raise ConfigurationError(
            f"FunctionName must be 1-{limits.FUNCTION_NAME_MAX} characters of letters, digits, hyphens "
            f"and underscores, got {name!r} ({limits.CREATE_FUNCTION_URL})")


def check_request(event: Any, limit_bytes: int, invocation_type: str) -> None:
    """Refuse an Invoke request as Lambda does: not JSON (400) or larger than ``limit_bytes`` (413)."""
    try:
        # Strict JSON: NaN and Infinity are not JSON, so the Invoke API cannot parse them either.
        body = json.dumps(event, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidRequestContentException(str(exc)) from None
    size = len(body.encode())
    if size > limit_bytes:
        raise RequestEntityTooLargeException(size, limit_bytes, f"Invoke (InvocationType={invocation_type})")


def _to_result(inv: Invocation) -> InvokeResult:
    error = None if inv.ok else "Unhandled"
    return InvokeResult(200, inv.result, error, inv.request_id, inv.log, inv)


_EXIT_ERROR = "Runtime.ExitError"


def _delivered(event: Any) -> Any:
    """The handler's own copy of ``event``: on AWS it arrives as JSON, so a mutation stays local.

    Invoke refuses non-JSON requests, so only an event a source built in Python can fail the
    round trip; a deep copy keeps such an event private all the same.
    """
    try:
        return json.loads(json.dumps(event))
    except (TypeError, ValueError):
        return copy.deepcopy(event)


def _marshal(result: Any, request_id: str) -> tuple[Any, tuple[str, str] | None]:
    """``(response, error)``: the result as the caller receives it (JSON), or the runtime's error.

    As AWS's Python runtime: a result ``json.dumps`` refuses (a set, an object, the coroutine of
    an ``async def`` handler) is ``Runtime.MarshalError``; a response larger than
    ``limits.SYNC_RESPONSE_MAX_BYTES`` is ``Function.ResponseSizeTooLarge``.
    """
    try:
        body = json.dumps(result)
    except (TypeError, ValueError) as exc:
        if hasattr(result, "close"):  # an un-awaited coroutine or a generator: close it quietly
            result.close()
        message = f"Unable to marshal response: {exc}"
        return {"errorMessage": message, "errorType": "Runtime.MarshalError", "requestId": request_id}, \
            ("Runtime.MarshalError", message)
    if len(body.encode()) > limits.SYNC_RESPONSE_MAX_BYTES:
        message = (f"Response payload size exceeded maximum allowed payload size "
                   f"({limits.SYNC_RESPONSE_MAX_BYTES} bytes).")
        return {"errorMessage": message, "errorType": "Function.ResponseSizeTooLarge"}, \
            ("Function.ResponseSizeTooLarge", message)
    return json.loads(body), None


def _exit_status(exc: BaseException) -> int:
    """The exit status Python would end with: ``sys.exit(n)`` gives n, a message or an exception 1."""
    code = getattr(exc, "code", 1)
    if code is None:
        return 0
    return code if isinstance(code, int) and not isinstance(code, bool) else 1


class Runtime:
    """Plays the Lambda service's invoke path: environments, limits, logs, the invocation log.

    Environments. An invocation takes the warmest idle environment of its function (a
    provisioned one first), or starts a new one: a cold start. By default an environment is
    kept for ever. AWS publishes no idle lifetime: its documentation says Lambda "maintains the
    execution environment for some time in anticipation of another function invocation" and
    "may completely terminate an environment after a period of inactivity"
    (``limits.RUNTIME_ENVIRONMENT_URL``, ``limits.CONCURRENCY_URL``). ``environment_idle_s``
    (``Lab(environment_idle_s=...)``) is therefore the lab's assumption: an on-demand environment
    idle for at least that many virtual seconds is retired when the next invocation looks for
    one, so that invocation is a cold start. Provisioned environments are never retired.
    """

    def __init__(self, lab: "Lab", *, account_concurrency: int, rng: random.Random,
                 environment_idle_s: float | None = None):
        self.check_idle_lifetime(environment_idle_s)
        self.lab = lab
        self.account_concurrency = account_concurrency
        self.rng = rng
        self.environment_idle_s = environment_idle_s
        self.functions: dict[str, Function] = {}
        self._next_env = 0
        #: Every environment ever initialised for provisioned concurrency (ids are never reused),
        #: so ``cost_breakdown`` can tell which invocations ran on one, even after re-registration.
        self.provisioned_env_ids: set[int] = set()

    @staticmethod
    def check_idle_lifetime(environment_idle_s: Any) -> None:
        """Refuse an idle lifetime that is not None or a positive, finite number of virtual seconds."""
        if environment_idle_s is None:
            return
        if isinstance(environment_idle_s, bool) or not isinstance(environment_idle_s, numbers.Real) \
                or not math.isfinite(environment_idle_s) or environment_idle_s <= 0:
            raise ConfigurationError(
                "environment_idle_s must be a positive number of virtual seconds, or None to keep environments "
                f"for ever, got {environment_idle_s!r}; it is the lab's setting, not AWS's: AWS publishes no idle "
                f"lifetime for execution environments ({limits.RUNTIME_ENVIRONMENT_URL})")

    # --- registration and limits -------------------------------------------------
    def register(self, fn: Function) -> Function:
        """Add ``fn`` (replacing a function of the same name), after checking it would fit.

        Its provisioned environments are initialised now, ahead of any invocation.
        """
        self.check_reservation(fn)  # before any change: a refused function leaves the lab as it was
        self.functions[fn.name] = fn
        self._provision(fn, fn.provisioned_concurrency)
        return fn

    def _reserved_total(self) -> int:
        return sum(f.reserved_concurrency or 0 for f in self.functions.values())

    @staticmethod
    def _taken_from_account(fn: Function) -> int:
        """What ``fn`` takes out of the unreserved pool: its reservation, else its provisioned concurrency.

        A reservation already holds the function's provisioned concurrency (it cannot be larger).
        """
        if fn.reserved_concurrency is not None:
            return fn.reserved_concurrency
        return fn.provisioned_concurrency

    def _unreserved_pool(self) -> int:
        """Concurrency left for on-demand environments of functions without a reservation."""
        return self.account_concurrency - sum(self._taken_from_account(f) for f in self.functions.values())

    def check_reservation(self, fn: Function) -> None:
        """Refuse ``fn``'s reserved and provisioned concurrency as AWS would, changing nothing.

        As PutFunctionConcurrency and PutProvisionedConcurrencyConfig: provisioned concurrency is
        a whole number no larger than the reservation, and reservations plus the provisioned
        concurrency of functions without one must leave ``limits.UNRESERVED_FLOOR`` unreserved
        (``limits.CONCURRENCY_URL``: both "count towards your account concurrency limit").
        """
        if fn.reserved_concurrency is not None:
            # The API's own range is "Minimum value of 0"; no function can hold more than the account.
            check_range("ReservedConcurrentExecutions", fn.reserved_concurrency, limits.RESERVED_CONCURRENCY_MIN,
                        self.account_concurrency, integer=True, url=limits.PUT_FUNCTION_CONCURRENCY_URL)
        check_range("ProvisionedConcurrentExecutions", fn.provisioned_concurrency, limits.PROVISIONED_CONCURRENCY_MIN,
                    self.account_concurrency, integer=True, url=limits.PROVISIONED_CONCURRENCY_URL)
        if fn.reserved_concurrency is not None and fn.provisioned_concurrency > fn.reserved_concurrency:
            raise ConfigurationError(
                f"provisioned_concurrency {fn.provisioned_concurrency} is more than the function's reserved "
                f"concurrency {fn.reserved_concurrency}: \"You can't allocate more provisioned concurrency than "
                f"reserved concurrency for a function.\" ({limits.CONCURRENCY_URL})")
        others = sum(self._taken_from_account(f) for f in self.functions.values() if f.name != fn.name)
        reserved = others + self._taken_from_account(fn)
        if self.account_concurrency - reserved < limits.UNRESERVED_FLOOR:
            if fn.reserved_concurrency is None:  # only provisioned concurrency takes from the pool
                raise ConfigurationError(
                    "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution "
                    f"below its minimum value of [{limits.UNRESERVED_FLOOR}] (account limit "
                    f"{self.account_concurrency}, reserved and provisioned in total {reserved}; "
                    f"{limits.CONCURRENCY_URL})")
            raise ConfigurationError(
                "Specified ReservedConcurrentExecutions decreases the account's "
                f"UnreservedConcurrentExecution below its minimum value of [{limits.UNRESERVED_FLOOR}] "
                f"(account limit {self.account_concurrency}, reserved in total {reserved})"
            )

    def limit_for(self, fn: Function) -> int:
        """How many environments ``fn`` may have busy at once."""
        if fn.reserved_concurrency is not None:
            return fn.reserved_concurrency
        # Its provisioned environments, then on-demand ones from the pool every such function shares.
        return self._unreserved_pool() + fn.provisioned_concurrency

    def busy(self, fn: Function, at_s: float) -> int:
        """Environments of ``fn`` running at absolute time ``at_s``."""
        return sum(1 for env in fn.environments if env.busy_until > at_s)

    def unreserved_busy(self, at_s: float) -> int:
        """On-demand environments running at ``at_s`` for functions without a reservation.

        They share the unreserved pool; provisioned environments were taken out of it ahead of time.
        """
        return sum(1 for f in self.functions.values() if f.reserved_concurrency is None
                   for env in f.environments if env.busy_until > at_s and not env.provisioned)

    def concurrency(self, at_s: float | None = None) -> int:
        """Environments busy across the account at ``at_s`` (default: now)."""
        t = self.lab.clock.now() if at_s is None else at_s
        return sum(self.busy(f, t) for f in self.functions.values())

    def throttle_error(self, fn: Function, inv: Invocation) -> TooManyRequestsException:
        """The 429 a synchronous caller gets for a throttled invocation record."""
        return TooManyRequestsException(fn.name, inv.error_type or "", self.limit_for(fn),
                                        reserved=fn.reserved_concurrency is not None)

    def current_depth(self) -> int:
        """How deep in a chain of invocations the code now running in this thread is (0 outside handlers)."""
        return _CHAIN_DEPTH.get()

    @contextlib.contextmanager
    def at_depth(self, depth: int) -> Iterator[None]:
        """Run the body as if a handler ``depth`` deep in a chain were running.

        The lab sends destinations and dead-letter messages on a function's behalf; what
        those sends trigger must see the chain continue, as AWS's recursion detection does.
        """
        token = _CHAIN_DEPTH.set(depth)
        try:
            yield
        finally:
            _CHAIN_DEPTH.reset(token)

    def caller_moves_clock(self) -> bool:
        """True when a synchronous call made now may move the clock to its end.

        Only a notebook cell does: the lab's own thread, outside any handler and any scheduled
        task. Nested calls and other threads start at the current instant and leave the clock.
        """
        return (self.current_depth() == 0 and not self.lab.scheduler.running
                and threading.get_ident() == self.lab.thread_id)

    # --- one invocation ------------------------------------------------------------
    @_holding_lab_lock
    def execute(
        self,
        fn: Function,
        event: Any,
        *,
        source: str,
        attempt: int = 1,
        batch_size: int | None = None,
        items: tuple[str, ...] = (),
        depth: int = 1,
        request_id: str | None = None,
    ) -> Invocation:
        """Run one invocation starting now; return its record (already in the lab's log).

        Never raises for handler errors, timeouts or throttles: the outcome says which.
        ``request_id`` keeps an id across retries (AWS does for async events).
        """
        now = self.lab.clock.now()
        request_id = request_id or self._request_id()
        throttle_reason = self._throttle_reason(fn, now)
        if throttle_reason:
            return self._record_throttle(fn, request_id, source, attempt, batch_size, items, throttle_reason)
        env, cold = self._acquire(fn, now)
        init_ms = draw_ms(fn.init_duration_ms, event, self.rng) if cold else 0.0
        exec_start = now + init_ms / 1000
        context = self._context(fn, env, request_id, now + fn.timeout_s)
        result, error, output = self._call_holding(env, fn, event, context, request_id, depth)
        if env.exited and env.provisioned and self.functions.get(fn.name) is fn:
            # AWS keeps the number of provisioned environments; the lab replaces one at once.
            self._provision(fn, 1)
        duration_ms = round(draw_ms(fn.duration_ms, event, self.rng), 2)
        outcome = "success" if error is None else "error"
        timeout_ms = fn.timeout_s * 1000
        if duration_ms > timeout_ms:
            duration_ms, outcome = float(timeout_ms), "timeout"
            error = ("Sandbox.Timedout", f"RequestId: {request_id} Error: Task timed out after {fn.timeout_s:.2f} seconds")
            result = {"errorType": error[0], "errorMessage": error[1]}
        end = exec_start + duration_ms / 1000
        env.busy_until, env.invocations = end, env.invocations + 1
        billed = math.ceil(duration_ms + init_ms)
        inv = Invocation(
            function=fn.name, source=source, request_id=request_id, attempt=attempt,
            start=round(now - self.lab.clock.start_s, 6), end=round(end - self.lab.clock.start_s, 6),
            duration_ms=duration_ms, billed_duration_ms=billed, init_duration_ms=round(init_ms, 2),
            cold_start=cold, outcome=outcome, error_type=error[0] if error else None,
            error_message=error[1] if error else None, batch_size=batch_size, env_id=env.env_id,
            items=tuple(items), result=result, end_s=end,
        )
        inv.log = self._log_text(fn, inv, output, exec_start)
        fn.log_lines.append(inv.log)
        return self.lab.log.add(inv)

    def _throttle_reason(self, fn: Function, now: float) -> str | None:
        if fn.reserved_concurrency is not None:
            if self.busy(fn, now) >= fn.reserved_concurrency:
                return "ReservedFunctionConcurrentInvocationLimitExceeded"
            return None
        if any(env.provisioned and env.busy_until <= now and not env.exited for env in fn.environments):
            return None  # a provisioned environment is free: it takes nothing from the pool
        if self.unreserved_busy(now) >= self._unreserved_pool():
            return "ConcurrentInvocationLimitExceeded"
        return None

    def _record_throttle(self, fn, request_id, source, attempt, batch_size, items, reason) -> Invocation:
        inv = Invocation.never_ran(
            fn.name, source, "throttled", at=self.lab.clock.elapsed(), error_type=reason,
            error_message=f"Rate Exceeded. {fn.name} reached its concurrency limit of {self.limit_for(fn)}",
            request_id=request_id, attempt=attempt, batch_size=batch_size, items=items,
            result={"errorType": "TooManyRequestsException", "errorMessage": "Rate Exceeded.", "Reason": reason},
        )
        return self.lab.log.add(inv)

    def _acquire(self, fn: Function, now: float) -> tuple[Environment, bool]:
        """An environment for an invocation starting at ``now``, and whether it is a cold start.

        With an idle lifetime set, on-demand environments idle for at least that long are retired
        first, here rather than by a scheduled task: nothing runs, and nothing changes, without one.
        """
        if self.environment_idle_s is not None:
            for env in fn.environments:
                if not env.provisioned and not env.retired and now - env.busy_until >= self.environment_idle_s:
                    env.retired = True
        idle = [env for env in fn.environments if env.busy_until <= now and not env.exited and not env.retired]
        if idle:
            # Provisioned environments serve first (on-demand ones take the spill-over); among
            # them, Lambda reuses a warm environment and the most recently used one is the warmest.
            warm = [env for env in idle if env.provisioned] or idle
            return max(warm, key=lambda env: (env.busy_until, env.env_id)), False
        return self._new_environment(fn), True

    def _new_environment(self, fn: Function, *, provisioned: bool = False) -> Environment:
        self._next_env += 1
        stream = f"{self.lab.clock.datetime():%Y/%m/%d}/[{fn.version}]{self.rng.getrandbits(128):032x}"
        env = Environment(self._next_env, fn.name, stream, provisioned=provisioned)
        fn.environments.append(env)
        if provisioned:
            self.provisioned_env_ids.add(env.env_id)
        return env

    def _provision(self, fn: Function, count: int) -> None:
        """Initialise ``count`` provisioned environments for ``fn`` now (their init is done ahead of time).

        A simplification: AWS takes "a minute or two" to allocate them (``limits.CONCURRENCY_URL``);
        the lab has them ready at once, and their init is not in the log or the bill.
        """
        for _ in range(count):
            self._new_environment(fn, provisioned=True)

    def _context(self, fn: Function, env: Environment, request_id: str, deadline_s: float) -> LambdaContext:
        return LambdaContext(
            clock=self.lab.clock, function_name=fn.name, function_version=fn.version,
            invoked_function_arn=fn.arn, memory_limit_in_mb=fn.memory_mb, aws_request_id=request_id,
            log_group_name=fn.log_group_name, log_stream_name=env.log_stream_name, deadline_s=deadline_s,
        )

    def _call_holding(self, env: Environment, fn: Function, event: Any, context: LambdaContext,
                      request_id: str, depth: int):
        """``_call`` with ``env`` busy meanwhile, so nested calls count it and never reuse it.

        Its real end is set by ``execute`` afterwards. A Ctrl-C (``KeyboardInterrupt``)
        propagates and gives the environment back as it was.
        """
        before, env.busy_until = env.busy_until, math.inf
        try:
            result, error, output = self._call(fn, event, context, request_id, depth)
        except BaseException:
            env.busy_until = before
            raise
        if error is not None and error[0] == _EXIT_ERROR:
            env.exited = True  # the runtime process is gone: the next invocation starts cold
        return result, error, output

    def _call(self, fn: Function, event: Any, context: LambdaContext, request_id: str, depth: int):
        """Run the handler, capturing this thread's print and logging; return (result, error, output).

        The handler gets its own copy of the event, and its result is marshalled to JSON, as
        the Python runtime does; ``KeyboardInterrupt`` (your Ctrl-C) is never caught.
        """
        out = io.StringIO()
        error = None
        try:
            with self.at_depth(depth), _CAPTURE.into(_Sink(out, request_id, self.lab.clock.iso)):
                running = _RUNNING.set(fn.name)
                try:
                    result = fn.handler(_delivered(event), context)
                finally:
                    _RUNNING.reset(running)
        except Exception as exc:  # the handler's failure is data for the lesson, not a lab crash
            error = (type(exc).__name__, str(exc))
            result = {"errorMessage": error[1], "errorType": error[0], "requestId": request_id}
        except (SystemExit, GeneratorExit) as exc:
            # On AWS these end the runtime process: the service reports that, not the exception.
            error = (_EXIT_ERROR, f"RequestId: {request_id} Error: Runtime exited with error: "
                                  f"exit status {_exit_status(exc)}")
            result = {"errorMessage": error[1], "errorType": error[0]}
        else:
            result, error = _marshal(result, request_id)
        if error is not None:
            out.write(f"[ERROR] {error[0]}: {error[1]}\n")
        return result, error, out.getvalue()

    def _log_text(self, fn: Function, inv: Invocation, output: str, exec_start: float) -> str:
        rid = inv.request_id
        lines = [f"START RequestId: {rid} Version: {fn.version}\n", output]
        if inv.outcome == "timeout":
            lines.append(f"{iso_utc(inv.end_s)} {rid} Task timed out after {fn.timeout_s:.2f} seconds\n")
        lines.append(f"END RequestId: {rid}\n")
        report = (
            f"REPORT RequestId: {rid}\tDuration: {inv.duration_ms:.2f} ms\t"
            f"Billed Duration: {inv.billed_duration_ms} ms\tMemory Size: {fn.memory_mb} MB\t"
            f"Max Memory Used: {fn.memory_used_mb} MB"
        )
        if inv.cold_start:
            report += f"\tInit Duration: {inv.init_duration_ms:.2f} ms"
        if inv.outcome == "timeout":
            report += "\tStatus: timeout"
        lines.append(report + "\n")
        return "".join(lines)

    def _request_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))



def cost_breakdown(lab: "Lab", function_name: str, period_s: float) -> dict[str, float]:
    """What function ``function_name`` has cost in the lab's log, by line item, in US dollars.

    us-east-1, x86 prices from ``limits`` (``PRICES_AS_OF``, ``PROVISIONED_PRICES_AS_OF``), as AWS
    bills them (``limits.LAMBDA_PRICING_URL``): every invocation that ran is a request (throttled
    and dropped ones are not billed); its billed duration (init included on a cold start) times
    the function's memory is on-demand GB-seconds, or provisioned duration GB-seconds at the lower
    price when it ran on a provisioned environment; and the provisioned concurrency itself is
    ``provisioned_concurrency`` x memory (GB) x ``period_s``, the virtual seconds it was configured,
    rounded up to five minutes as AWS rounds it. No free tier (it does not apply to functions with
    provisioned concurrency); the init of provisioned environments is left out.

    Returns ``requests``, ``requests_usd``, ``on_demand_gb_s``, ``on_demand_usd``,
    ``provisioned_duration_gb_s``, ``provisioned_duration_usd``, ``provisioned_period_s`` (billed),
    ``provisioned_concurrency_gb_s``, ``provisioned_concurrency_usd`` and ``total_usd``.
    """
    if isinstance(period_s, bool) or not isinstance(period_s, numbers.Real) or not math.isfinite(period_s) \
            or period_s < 0:
        raise ConfigurationError(f"period_s must be a finite number of virtual seconds >= 0, got {period_s!r}")
    with lab.lock:
        fn = lab.runtime.functions.get(function_name)
        if fn is None:
            raise ConfigurationError(f"no function {function_name!r} in this lab; its functions are "
                                     f"{sorted(lab.runtime.functions)}")
        ran = [rec for rec in lab.log if rec.function == function_name and rec.env_id is not None]
        provisioned_ids = lab.runtime.provisioned_env_ids
    gb = fn.memory_mb / limits.LAMBDA_MB_PER_GB
    on_demand_gb_s = sum(rec.billed_duration_ms for rec in ran if rec.env_id not in provisioned_ids) / 1000 * gb
    provisioned_gb_s = sum(rec.billed_duration_ms for rec in ran if rec.env_id in provisioned_ids) / 1000 * gb
    increment = limits.LAMBDA_PROVISIONED_BILLING_INCREMENT_S
    billed_period_s = math.ceil(period_s / increment) * increment if fn.provisioned_concurrency else 0
    concurrency_gb_s = fn.provisioned_concurrency * gb * billed_period_s
    out = {
        "requests": len(ran),
        "requests_usd": len(ran) * limits.LAMBDA_PER_REQUEST_USD,
        "on_demand_gb_s": on_demand_gb_s,
        "on_demand_usd": on_demand_gb_s * limits.LAMBDA_PER_GB_S_USD,
        "provisioned_duration_gb_s": provisioned_gb_s,
        "provisioned_duration_usd": provisioned_gb_s * limits.LAMBDA_PROVISIONED_DURATION_PER_GB_S_USD,
        "provisioned_period_s": billed_period_s,
        "provisioned_concurrency_gb_s": concurrency_gb_s,
        "provisioned_concurrency_usd": concurrency_gb_s * limits.LAMBDA_PROVISIONED_PER_GB_S_USD,
    }
    out["total_usd"] = out["requests_usd"] + out["on_demand_usd"] + out["provisioned_duration_usd"] \
        + out["provisioned_concurrency_usd"]
    return out
