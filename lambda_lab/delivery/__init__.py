"""Delivery: retry policies, sending to an ARN, the hand-off to Lambda's async queue, the relay."""

from .handoff import FAULTS, Faults, Handoff, hand_off
from .relay import Relay, relay_queue_name
from .retry import (EVENTBRIDGE_TARGET, SNS_MANAGED, Phase, RetryPolicy, lambda_async_errors,
                    lambda_async_throttles, stream_mapping)
from .send import DEAD_LETTER, DESTINATION, SendLog, SendResult, parse_arn, send

__all__ = [
    "DEAD_LETTER", "DESTINATION", "EVENTBRIDGE_TARGET", "FAULTS", "Faults", "Handoff", "Phase", "Relay",
    "RetryPolicy", "SNS_MANAGED", "SendLog", "SendResult", "hand_off", "lambda_async_errors",
    "lambda_async_throttles", "parse_arn", "relay_queue_name", "send", "stream_mapping",
]
