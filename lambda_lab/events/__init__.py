"""AWS-faithful Lambda events, one module per source: ``events/<source>.py``.

Every module has the same shape: ``EVENT_SOURCE`` (the ``eventSource`` of its records),
``record(...)`` (one record, as the service writes it), ``event(records)`` (what the function
receives), ``sample_event()`` (a well-formed event that needs no AWS resource, for calling a
handler directly) and ``DISPLAY_FIELDS`` (the paths into one record that ``show_event`` prints).

:func:`display_fields` finds a source's fields by ``eventSource``. The package imports only
the standard library, and a source's module only when asked for it.
"""

from __future__ import annotations

import importlib

#: ``eventSource`` -> the module of this package that builds that source's events.
MODULES = {"aws:dynamodb": "dynamodb", "aws:s3": "s3", "aws:sns": "sns", "aws:sqs": "sqs"}

def display_fields(event_source: str | None) -> tuple[str, ...] | None:
    """The paths into one record of ``event_source`` that a handler author reads; None if unknown."""
    name = MODULES.get(event_source or "")
    if name is None:
        return None
    return importlib.import_module(f"{__name__}.{name}").DISPLAY_FIELDS
