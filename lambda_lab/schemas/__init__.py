"""Schema discovery, done locally: schemas inferred from the events on a bus, and Python bindings.

EventBridge's Schema Registry can watch a bus ("discovery"), infer a schema for every ``source`` and
``detail-type`` it sees, keep a new version whenever the events change, and generate code bindings
(reference/aws-facts.md §9; https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-schema.html).
This package does the same with the events the lab's EventBridge accepted
(``lab.eventbridge.events``), in the registry's formats:

- ``infer(events)``: ``{(source, detail_type): Schema}``, each inferred from every event given;
- ``Registry(bus)``: ``discover(events)`` / ``sync(lab.eventbridge.events)`` read new events and keep
  versions (1 at first sight, a new one only when the inferred document changes); ``schemas()`` (a
  row per schema), ``get(source, detail_type, version=None)``, ``versions(source, detail_type)``;
- ``Schema``: ``openapi()`` (OpenAPI 3.0, as the registry stores discovered schemas),
  ``jsonschema()`` (JSON Schema draft 4), ``version``, ``source``, ``detail_type``, ``name``
  (``aws.s3@ObjectCreated``), ``event_count``, ``fields()``; ``diff(old, new)``;
- ``generate_bindings(schema, folder)``: an importable package of dataclasses, in the registry's
  layout, with ``from_dict``/``to_dict``; ``import_bindings(path)`` imports one.

What each module follows from AWS, and what it could not confirm, is in its docstring
(``infer`` for the documents, ``bindings`` for the code, ``marshaller`` for the runtime).
"""

from __future__ import annotations

from .bindings import generate_bindings, import_bindings, package_name
from .infer import DISCOVERED_REGISTRY, Registry, Schema, detail_name, diff, infer

__all__ = ["DISCOVERED_REGISTRY", "Registry", "Schema", "detail_name", "diff", "generate_bindings",
           "import_bindings", "infer", "package_name"]
