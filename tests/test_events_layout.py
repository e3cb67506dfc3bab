"""Every source's events module has the same shape, and ``show_event`` reads its display fields."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from lambda_lab import events
from lambda_lab.views import event_view

SHAPE = ("EVENT_SOURCE", "record", "event", "sample_event", "DISPLAY_FIELDS")


@pytest.mark.parametrize("event_source, name", sorted(events.MODULES.items()))
def test_each_events_module_has_the_same_shape(event_source, name):
    module = importlib.import_module(f"lambda_lab.events.{name}")
    assert [n for n in SHAPE if not hasattr(module, n)] == []
    assert module.EVENT_SOURCE == event_source
    assert events.display_fields(event_source) is module.DISPLAY_FIELDS


@pytest.mark.parametrize("name", sorted(events.MODULES.values()))
def test_show_event_prints_the_display_fields_of_a_sample(name):
    module = importlib.import_module(f"lambda_lab.events.{name}")
    [view] = event_view(module.sample_event())
    shown = [key for key in view if key != "eventSource"]
    assert shown and set(shown) <= set(module.DISPLAY_FIELDS)
    assert view["eventSource"] == module.EVENT_SOURCE


def test_sources_without_a_module_yet_still_have_fields():
    assert events.display_fields("aws:sns")[0] == "Sns.MessageId"
    assert events.display_fields("aws:dynamodb")[0] == "eventName"
    assert events.display_fields("aws:kinesis") is None and events.display_fields(None) is None


def test_the_events_package_imports_neither_boto3_nor_pandas():
    code = ("import sys, lambda_lab.events, lambda_lab.views; "
            "lambda_lab.events.display_fields('aws:sqs'); lambda_lab.events.display_fields('aws:s3'); "
            "print(sorted(m for m in ('boto3', 'botocore', 'pandas', 'moto') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
