"""Teaching views: boto3 responses and Lambda events printed the same way every run.

Which fields of a record ``show_event`` prints is each source's ``DISPLAY_FIELDS``, in
``events/<source>.py``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from .events import display_fields


def _plain(value: Any) -> Any:
    """JSON-friendly copy: datetimes as ISO text, bytes as base64, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if hasattr(value, "read"):  # a botocore StreamingBody: show that it is one, not its bytes
        return "<StreamingBody>"
    return value


def as_text(value: Any) -> str:
    """``value`` as indented JSON with sorted keys and no ResponseMetadata."""
    return json.dumps(_plain(value), indent=2, sort_keys=True, ensure_ascii=False, default=str)


def show(response: Any) -> None:
    """Print a boto3 response (or any dict) without ResponseMetadata, keys in stable order."""
    print(as_text(response))


def _get(record: dict, path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def event_view(event: Any) -> list[dict[str, Any]]:
    """The fields that matter in each record of ``event`` (the whole event if it has no Records)."""
    records = event.get("Records") if isinstance(event, dict) else None
    if not records:
        from .events import eventbridge

        if eventbridge.is_eventbridge_event(event):  # no records: its envelope's fields that matter
            return [{p: _plain(event[p]) for p in eventbridge.DISPLAY_FIELDS if p in event}]
        return [_plain(event)]
    views = []
    for record in records:
        source = record.get("eventSource") or record.get("EventSource")
        paths = display_fields(source)
        if paths is None:
            views.append(_plain(record))
            continue
        view = {"eventSource": source}
        view.update({p: _plain(v) for p in paths if (v := _get(record, p)) is not None})
        views.append(view)
    return views


def show_event(event: Any) -> None:
    """Print what a handler author reads in ``event``: per record, the fields that matter."""
    views = event_view(event)
    if len(views) == 1 and not (isinstance(event, dict) and event.get("Records")):
        print(as_text(views[0]))
        return
    for i, view in enumerate(views):
        print(f"Records[{i}]")
        for key, value in view.items():
            text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
            print(f"  {key}: {text}")


def controls(function, **widgets):
    """``ipywidgets.interactive(function, {"manual": True}, **widgets)`` with labels shown in full.

    ipywidgets gives every description a fixed width (about 80 px), so a keyword argument
    named like an AWS setting (``max_concurrency``) is cut to ``max_conc...``. Here each
    control's description takes the width its text needs. Nothing runs until the learner
    presses **Run Interact**, so a slow simulation is not rerun on every slider step.
    """
    from ipywidgets import interactive

    box = interactive(function, {"manual": True}, **widgets)
    for child in box.children:
        style = getattr(child, "style", None)
        if style is not None and "description_width" in style.keys:
            style.description_width = "initial"
    return box
