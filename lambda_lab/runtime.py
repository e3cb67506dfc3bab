"""The local Lambda runtime: functions, execution environments, concurrency and logs.

A handler is a plain ``handler(event, context)``. The lab calls it in-process, then
places the invocation on the virtual clock: it starts when the caller (a poller, the
async queue, your cell) asks, lasts ``init_duration_ms`` (cold starts only) plus
``duration_ms``, and holds an execution environment for that long. Concurrency is the
number of environments busy at an instant, as in AWS.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import random
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable

from .clock import iso_utc
from .context import LambdaContext
from .durations import Duration, draw_ms
from .errors import ConfigurationError, TooManyRequestsException
from .log import Invocation

if TYPE_CHECKING:
    from .lab import Lab

Handler = Callable[[Any, LambdaContext], Any]

# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
MAX_TIMEOUT_S = 900
MIN_MEMORY_MB, MAX_MEMORY_MB = 128, 10_240
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
DEFAULT_ACCOUNT_CONCURRENCY = 1_000
# https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionConcurrency.html
MIN_UNRESERVED_CONCURRENCY = 100


@dataclass
class Environment:
    """One execution environment: busy until ``busy_until`` (epoch seconds)."""

    env_id: int
    function: str
    log_stream_name: str
    busy_until: float = 0.0
    invocations: int = 0


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


class _LambdaLogHandler(logging.Handler):
    """Formats ``logging`` records as the Python runtime does: level, time, request id."""

    def __init__(self, stream: io.StringIO, request_id: str, clock_iso: Callable[[], str]):
        super().__init__()
        self.stream, self.request_id, self.clock_iso = stream, request_id, clock_iso

    def emit(self, record: logging.LogRecord) -> None:
        self.stream.write(
            f"[{record.levelname}]\t{self.clock_iso()}\t{self.request_id}\t{record.getMessage()}\n"
        )


class Function:
    """A registered function. Create it with ``lab.function(...)``, not directly."""

    def __init__(
        self,
        lab: "Lab",
        name: str,
        handler: Handler,
        *,
        timeout_s: float = 3,
        memory_mb: int = 128,
        reserved_concurrency: int | None = None,
        duration_ms: Duration = 100.0,
        init_duration_ms: Duration = 180.0,
        memory_used_mb: int = 40,
    ):
        if not callable(handler):
            raise ConfigurationError(f"handler for {name!r} must be callable as handler(event, context)")
        _check_range("Timeout", timeout_s, 1, MAX_TIMEOUT_S, "seconds")
        _check_range("MemorySize", memory_mb, MIN_MEMORY_MB, MAX_MEMORY_MB, "MB")
        self.lab = lab
        self.name = name
        self.handler = handler
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.reserved_concurrency = reserved_concurrency
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

        A throttle raises ``TooManyRequestsException`` (HTTP 429), as the Invoke API does;
        Lambda never retries a synchronous call for you.
        """
        inv = self.lab.runtime.execute(self, event, source="invoke")
        if inv.outcome == "throttled":
            raise self.lab.runtime.throttle_error(self, inv)
        self.lab.clock.advance_to(inv.end_s)
        return _to_result(inv)

    def invoke_concurrently(self, events: Iterable[Any]) -> list[InvokeResult | TooManyRequestsException]:
        """Send several synchronous invocations at the same instant (a burst of callers).

        Returns one entry per event: the response, or the throttle error that caller got.
        """
        results: list[InvokeResult | TooManyRequestsException] = []
        latest_end = self.lab.clock.now()
        for event in events:
            inv = self.lab.runtime.execute(self, event, source="invoke")
            if inv.outcome == "throttled":
                results.append(self.lab.runtime.throttle_error(self, inv))
            else:
                results.append(_to_result(inv))
                latest_end = max(latest_end, inv.end_s)
        self.lab.clock.advance_to(latest_end)
        return results

    def invoke_async(self, event: Any, **options: Any) -> Any:
        """Asynchronous invocation (``InvocationType=Event``): queue the event, return at once."""
        return self.lab.async_queue.submit(self, event, **options)

    def configure_async(self, **options: Any) -> None:
        """Set retries, maximum event age and destinations for asynchronous invocations."""
        self.lab.async_queue.configure(self, **options)

    def logs(self) -> str:
        """Everything this function wrote, CloudWatch style (START/END/REPORT per invocation)."""
        return "".join(self.log_lines)

    def __repr__(self) -> str:
        return f"Function({self.name!r}, timeout_s={self.timeout_s}, memory_mb={self.memory_mb})"


def _check_range(name: str, value: float, low: float, high: float, unit: str) -> None:
    if not low <= value <= high:
        raise ConfigurationError(f"{name} must be between {low} and {high} {unit}, got {value}")


def _to_result(inv: Invocation) -> InvokeResult:
    error = None if inv.ok else "Unhandled"
    return InvokeResult(200, inv.result, error, inv.request_id, inv.log, inv)


class Runtime:
    """Plays the Lambda service's invoke path: environments, limits, logs, the invocation log."""

    def __init__(self, lab: "Lab", *, account_concurrency: int, rng: random.Random):
        self.lab = lab
        self.account_concurrency = account_concurrency
        self.rng = rng
        self.functions: dict[str, Function] = {}
        self._next_env = 0
        self._chain: list[int] = []

    # --- registration and limits -------------------------------------------------
    def register(self, fn: Function) -> Function:
        self.functions[fn.name] = fn
        try:
            self._check_reservations()
        except ConfigurationError:
            del self.functions[fn.name]
            raise
        return fn

    def _reserved_total(self) -> int:
        return sum(f.reserved_concurrency or 0 for f in self.functions.values())

    def _check_reservations(self) -> None:
        reserved = self._reserved_total()
        for f in self.functions.values():
            if f.reserved_concurrency is not None and f.reserved_concurrency < 0:
                raise ConfigurationError(f"ReservedConcurrentExecutions must be >= 0, got {f.reserved_concurrency}")
        if self.account_concurrency - reserved < MIN_UNRESERVED_CONCURRENCY:
            raise ConfigurationError(
                "Specified ReservedConcurrentExecutions decreases the account's "
                f"UnreservedConcurrentExecution below its minimum value of [{MIN_UNRESERVED_CONCURRENCY}] "
                f"(account limit {self.account_concurrency}, reserved in total {reserved})"
            )

    def limit_for(self, fn: Function) -> int:
        """How many environments ``fn`` may have busy at once."""
        if fn.reserved_concurrency is not None:
            return fn.reserved_concurrency
        return self.account_concurrency - self._reserved_total()

    def busy(self, fn: Function, at_s: float) -> int:
        """Environments of ``fn`` running at absolute time ``at_s``."""
        return sum(1 for env in fn.environments if env.busy_until > at_s)

    def unreserved_busy(self, at_s: float) -> int:
        return sum(self.busy(f, at_s) for f in self.functions.values() if f.reserved_concurrency is None)

    def concurrency(self, at_s: float | None = None) -> int:
        """Environments busy across the account at ``at_s`` (default: now)."""
        t = self.lab.clock.now() if at_s is None else at_s
        return sum(self.busy(f, t) for f in self.functions.values())

    def throttle_error(self, fn: Function, inv: Invocation) -> TooManyRequestsException:
        """The 429 a synchronous caller gets for a throttled invocation record."""
        return TooManyRequestsException(fn.name, inv.error_type or "", self.limit_for(fn),
                                        reserved=fn.reserved_concurrency is not None)

    def current_depth(self) -> int:
        """How deep in a chain of invocations the code now running is (0 outside handlers)."""
        return self._chain[-1] if self._chain else 0

    # --- one invocation ------------------------------------------------------------
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
        result, error, output = self._call(fn, event, context, request_id, depth)
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
        if self.unreserved_busy(now) >= self.limit_for(fn):
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
        idle = [env for env in fn.environments if env.busy_until <= now]
        if idle:
            # Lambda reuses a warm environment; the most recently used one is the warmest.
            return max(idle, key=lambda env: (env.busy_until, env.env_id)), False
        self._next_env += 1
        stream = f"{self.lab.clock.datetime():%Y/%m/%d}/[{fn.version}]{self.rng.getrandbits(128):032x}"
        env = Environment(self._next_env, fn.name, stream)
        fn.environments.append(env)
        return env, True

    def _context(self, fn: Function, env: Environment, request_id: str, deadline_s: float) -> LambdaContext:
        return LambdaContext(
            clock=self.lab.clock, function_name=fn.name, function_version=fn.version,
            invoked_function_arn=fn.arn, memory_limit_in_mb=fn.memory_mb, aws_request_id=request_id,
            log_group_name=fn.log_group_name, log_stream_name=env.log_stream_name, deadline_s=deadline_s,
        )

    def _call(self, fn: Function, event: Any, context: LambdaContext, request_id: str, depth: int):
        """Run the handler, capturing print and logging; return (result, error, output)."""
        out = io.StringIO()
        log_handler = _LambdaLogHandler(out, request_id, self.lab.clock.iso)
        root = logging.getLogger()
        root.addHandler(log_handler)
        self._chain.append(depth)
        error = None
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                result = fn.handler(event, context)
        except Exception as exc:  # the handler's failure is data for the lesson, not a lab crash
            error = (type(exc).__name__, str(exc))
            out.write(f"[ERROR] {error[0]}: {error[1]}\n")
            result = {"errorMessage": error[1], "errorType": error[0], "requestId": request_id}
        finally:
            self._chain.pop()
            root.removeHandler(log_handler)
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

