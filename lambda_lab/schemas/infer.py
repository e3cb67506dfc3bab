"""Schema inference: one schema per (``source``, ``detail-type``), from every event seen.

What each JSON value becomes, in OpenAPI 3.0 (the registry's default) and JSON Schema draft 4:

- strings: ``{"type": "string"}``; ``"format": "date-time"`` too when all are RFC 3339 date-times;
- integers: ``{"type": "integer", "format": "int64"}``; numbers (one with a fraction is enough):
  ``{"type": "number"}``; true/false: ``{"type": "boolean"}``;
- objects: ``{"$ref": "#/components/schemas/Name"}`` (draft 4: ``#/definitions/Name``);
- arrays: ``{"type": "array", "items": ...}``, the items of every array merged; ``items`` is
  ``{"type": "object"}`` when every array seen was empty;
- only null: ``{}`` (both formats);
- a type or null: ``{"type": "string", "nullable": true}`` (draft 4: ``"type": ["string", "null"]``);
- an object or null: ``{"oneOf": [{"$ref": ...}, NULL_ONLY]}`` (OpenAPI 3.0.3's ``nullable`` only
  adds null to a ``type`` beside it); draft 4: ``{"oneOf": [{"$ref": ...}, {"type": "null"}]}``;
- two types: ``{"oneOf": [{...}, {...}]}``, null if seen marked on the first typed member; draft 4:
  ``{"type": ["string", "integer", "null"]}`` (with ``oneOf`` beside a ``$ref``).

An object's ``required`` lists the keys present (null counts as present) in every object seen at
that position, so a field that only some events carry is optional. Integers and numbers at the same
position merge into ``number`` (JSON's integers are numbers). Array items from every array at a
position merge into one item schema. Properties are sorted by name; each object gets a component
named after its key (``bucket`` -> ``Bucket``), the detail after the detail-type (``Object Created``
-> ``ObjectCreated``), array items after their array plus ``Item``.

Confirmed against AWS (stored copies of these pages and files):

- the document's shape: ``openapi: 3.0.0``, ``info`` (version ``1.0.0``, title = the detail's
  name), ``paths: {}``, components ``AWSEvent`` (``x-amazon-events-detail-type``,
  ``x-amazon-events-source``, ``detail`` as a ``$ref``, the envelope's ``required`` in AWS's order,
  ``ENVELOPE_REQUIRED``, ``time`` with ``format: date-time``) and the detail; the detail's
  properties sorted by name; every key of the sampled event required, a null one included; a large
  integer as ``integer``/``int64``; a null as ``{}``: the "Discover from JSON" example at
  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-schemas-infer-from-json.html
  (github.com/awsdocs/amazon-eventbridge-user-guide) and the discovered schema shown by
  ``aws schemas get-discovered-schema`` (github.com/aws/aws-cli,
  ``awscli/examples/schemas/get-discovered-schema.rst``);
- names: the detail-type's words run together, each capitalised (``EC2 Instance State-change
  Notification`` -> ``EC2InstanceStateChangeNotification``, ``userCreated`` -> ``UserCreated``);
  the registry name ``source@Name`` in the ``discovered-schemas`` registry; nested objects named
  after their key (``sessionContext`` -> ``SessionContext``): the pages above and AWS's registry
  schemas quoted in AWS's own tests (aws/aws-toolkit-vscode
  ``src/test/eventSchemas/templates/schemasExamples.ts``; aws-powertools/powertools-lambda-python
  ``tests/functional/validator/conftest.py``);
- a new version when the events' contents change:
  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-schemas-infer.html;
- OpenAPI 3 and JSON Schema draft 4 as the two formats:
  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-schema.html. The draft 4 document's
  shape (the envelope at the root with ``$schema``, ``definitions``, ``title`` and the
  ``x-amazon-events-*`` keys, keys sorted, ``int64`` kept as a ``format``, null as a ``type``
  list) follows a registry export (of an AWS service schema) quoted in powertools' test above.
  That export writes a nullable object as ``{"type": ["object", "null"]}`` and loses its
  properties; the lab keeps the ``$ref`` in a ``oneOf``;
- an empty ``resources`` array as ``items: {"type": "object"}``: discovered schemas of custom
  events quoted in public code (a registry ``DescribeSchema`` answer mocked in a test, the
  aws-samples serverless workshop's schema).

Not confirmed (the lab's choice, kept close to the above):

- how discovery writes a field seen with two types, or null in some events and a value in others
  (the ``nullable``/``oneOf`` forms above are OpenAPI 3.0's own);
- whether discovery marks ``date-time`` on detail fields as it does on ``time`` (AWS's published
  schemas mark ISO 8601 strings such as CloudTrail's ``eventTime`` this way; the lab marks any
  position whose strings are all RFC 3339 date-times);
- ``int64`` for small integers (only a large one was seen), ``number`` without a ``format``;
- the order of ``required`` inside the detail (AWS's looks unordered; the lab sorts it), the names
  of array items (``...Item``) and of two objects that would get the same name (``State_1``);
- when a new version is cut: AWS says only that changed contents make one. The lab compares the
  inferred document once per ``Registry.discover`` (``sync``) call, so what a version holds
  depends on when you look, and the latest version is always what ``infer`` gives for every event
  seen.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import keyword
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["DISCOVERED_REGISTRY", "Registry", "Schema", "detail_name", "diff", "infer"]

#: The registry discovery writes to.
DISCOVERED_REGISTRY = "discovered-schemas"
OPENAPI_VERSION = "3.0.0"
DRAFT4 = "http://json-schema.org/draft-04/schema#"
#: The envelope's ``required`` as discovered schemas list it (not sorted: copied as AWS writes it).
ENVELOPE_REQUIRED = ("detail-type", "resources", "detail", "id", "source", "time", "region", "version", "account")
#: Component names the bindings need for themselves.
RESERVED_NAMES = frozenset({"AWSEvent", "Any", "Binding", "FieldTypeError", "Marshaller", "MissingFieldError",
                            "SchemaError"})
#: OpenAPI 3.0's schema for null alone (beside an object's ``$ref`` in a ``oneOf``).
NULL_ONLY = {"type": "object", "nullable": True, "enum": [None]}
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})")
_WORDS = re.compile(r"[^\W_]+")


def _is_date_time(text: str) -> bool:
    if not _RFC3339.fullmatch(text):
        return False
    try:
        dt.datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def pascal(text: str) -> str:
    """Words run together, each with its first letter capitalised: ``State-change`` -> ``StateChange``."""
    return "".join(word[0].upper() + word[1:] for word in _WORDS.findall(text))


def detail_name(detail_type: str) -> str:
    """The detail's schema name for a detail-type, as the registry names it (``Object Created`` -> ``ObjectCreated``).

    A name that would not start with a letter gets ``Event`` in front (the lab's choice).
    """
    name = pascal(detail_type)
    return name if name[:1].isalpha() else f"Event{name}"


# --------------------------------------------------------------------------------- the inferred tree
class Node:
    """What was seen at one position of the events: how often each JSON type, and below it."""

    __slots__ = ("seen", "nulls", "booleans", "integers", "numbers", "strings", "date_times", "objects",
                 "props", "arrays", "items")

    def __init__(self) -> None:
        self.seen = self.nulls = self.booleans = self.integers = self.numbers = 0
        self.strings = self.date_times = self.objects = self.arrays = 0
        self.props: dict[str, Node] = {}
        self.items = None  # type: Node | None

    def observe(self, value: Any) -> None:
        self.seen += 1
        if value is None:
            self.nulls += 1
        elif isinstance(value, bool):
            self.booleans += 1
        elif isinstance(value, int):
            self.integers += 1
        elif isinstance(value, float):
            self.numbers += 1
        elif isinstance(value, str):
            self.strings += 1
            self.date_times += _is_date_time(value)
        elif isinstance(value, dict):
            self.objects += 1
            for key, child in value.items():
                self.props.setdefault(key, Node()).observe(child)
        elif isinstance(value, (list, tuple)):
            self.arrays += 1
            if self.items is None:
                self.items = Node()
            for item in value:
                self.items.observe(item)
        else:
            raise TypeError(f"not a JSON value: {value!r:.60}")

    def required(self) -> list[str]:
        return sorted(key for key, child in self.props.items() if child.seen == self.objects)


def _objects(root: Node, detail: str) -> dict[int, str]:
    """A component name for every object position below the envelope, given breadth first."""
    taken = set(RESERVED_NAMES)

    def unique(hint: str) -> str:
        name = hint if hint[:1].isalpha() else f"Field{hint}"
        n, candidate = 0, name
        while candidate in taken or keyword.iskeyword(candidate):  # None, True, False
            n += 1
            candidate = f"{name}_{n}"
        taken.add(candidate)
        return candidate

    names: dict[int, str] = {}
    queue: deque[tuple[Node, str]] = deque()
    for key, child in sorted(root.props.items()):  # the envelope's own fields
        queue.append((child, detail if key == "detail" else pascal(key)))
    if "detail" in root.props and root.props["detail"].objects:  # the detail gets its name first
        names[id(root.props["detail"])] = unique(detail)
    while queue:
        node, hint = queue.popleft()
        if node.objects:
            if id(node) not in names:
                names[id(node)] = unique(hint)
            for key, child in sorted(node.props.items()):
                queue.append((child, pascal(key)))
        if node.arrays and node.items is not None:
            queue.append((node.items, f"{hint}Item"))
    return names


def _openapi_value(node: Node, names: dict[int, str]) -> dict[str, Any]:
    members: list[dict[str, Any]] = []
    if node.strings:
        members.append({"type": "string", **({"format": "date-time"} if node.date_times == node.strings else {})})
    if node.numbers:
        members.append({"type": "number"})
    elif node.integers:
        members.append({"type": "integer", "format": "int64"})
    if node.booleans:
        members.append({"type": "boolean"})
    if node.arrays:
        items = node.items
        seen = items is not None and items.seen
        members.append({"type": "array", "items": _openapi_value(items, names) if seen else {"type": "object"}})
    if node.objects:
        members.append({"$ref": f"#/components/schemas/{names[id(node)]}"})
    if not members:
        return {}  # only null seen: AWS writes an empty schema
    if node.nulls:  # OpenAPI 3.0.3: nullable adds null to the ``type`` beside it, so one typed member takes it
        typed = next((m for m in members if "type" in m), None)
        if typed is not None:
            typed["nullable"] = True
        else:
            members.append(copy.deepcopy(NULL_ONLY))
    return members[0] if len(members) == 1 else {"oneOf": members}


def _draft4_value(node: Node, names: dict[int, str]) -> dict[str, Any]:
    types: list[str] = []
    extra: dict[str, Any] = {}
    if node.strings:
        types.append("string")
        if node.date_times == node.strings:
            extra["format"] = "date-time"
    if node.numbers:
        types.append("number")
    elif node.integers:
        types.append("integer")
        extra.setdefault("format", "int64")  # a date-time string at the same position keeps its format
    if node.booleans:
        types.append("boolean")
    if node.arrays:
        types.append("array")
        items = node.items
        extra["items"] = _draft4_value(items, names) if items is not None and items.seen else {"type": "object"}
    ref = {"$ref": f"#/definitions/{names[id(node)]}"} if node.objects else None
    if node.nulls and (types or ref):
        types.append("null")
    rest = {"type": types[0] if len(types) == 1 else types, **extra} if types else None
    if ref and rest:
        return {"oneOf": [ref, rest]}
    return ref or rest or {}


def _sorted_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(item) for item in value]
    return value


def _envelope_required(root: Node) -> list[str]:
    required = set(root.required())
    return [key for key in ENVELOPE_REQUIRED if key in required] + sorted(required - set(ENVELOPE_REQUIRED))


def _envelope_keys(root: Node) -> list[str]:
    return (["detail"] if "detail" in root.props else []) + sorted(k for k in root.props if k != "detail")


def _render(root: Node, source: str, detail_type: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The OpenAPI 3 and JSON Schema draft 4 documents for the events observed into ``root``."""
    detail = detail_name(detail_type)
    names = _objects(root, detail)
    by_name: dict[str, Node] = {}
    queue = deque(root.props[key] for key in _envelope_keys(root))
    while queue:  # breadth first, as named
        node = queue.popleft()
        if node.objects and names[id(node)] not in by_name:
            by_name[names[id(node)]] = node
            queue.extend(child for _, child in sorted(node.props.items()))
        if node.arrays and node.items is not None:
            queue.append(node.items)

    envelope: dict[str, Any] = {"type": "object"}
    required = _envelope_required(root)
    if required:
        envelope["required"] = required
    envelope["x-amazon-events-detail-type"] = detail_type
    envelope["x-amazon-events-source"] = source
    envelope["properties"] = {key: _openapi_value(root.props[key], names) for key in _envelope_keys(root)}
    components: dict[str, Any] = {"AWSEvent": envelope}
    for name, node in by_name.items():
        component: dict[str, Any] = {"type": "object"}
        if node.required():
            component["required"] = node.required()
        component["properties"] = {key: _openapi_value(child, names) for key, child in sorted(node.props.items())}
        components[name] = component
    title = names.get(id(root.props.get("detail")), detail)
    openapi = {"openapi": OPENAPI_VERSION, "info": {"version": "1.0.0", "title": title}, "paths": {},
               "components": {"schemas": components}}

    definitions = {}
    for name, node in by_name.items():
        definition: dict[str, Any] = {"type": "object",
                                      "properties": {k: _draft4_value(c, names) for k, c in node.props.items()}}
        if node.required():
            definition["required"] = node.required()
        definitions[name] = definition
    draft4: dict[str, Any] = {"$schema": DRAFT4, "definitions": definitions, "title": title, "type": "object",
                              "properties": {key: _draft4_value(root.props[key], names) for key in root.props},
                              "x-amazon-events-detail-type": detail_type, "x-amazon-events-source": source}
    if required:
        draft4["required"] = required
    return openapi, _sorted_keys(draft4)


# --------------------------------------------------------------------------------------- the schema
@dataclass(frozen=True)
class Schema:
    """One version of the schema of one (``source``, ``detail-type``), inferred from ``event_count`` events."""

    source: str
    detail_type: str
    version: int
    event_count: int
    registry: str = DISCOVERED_REGISTRY
    _openapi: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _jsonschema: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def detail_name(self) -> str:
        """The detail's component (and binding class) name: ``ObjectCreated``."""
        return self._openapi["info"]["title"]

    @property
    def name(self) -> str:
        """The schema's name in the registry: ``aws.s3@ObjectCreated``."""
        return f"{self.source}@{self.detail_name}"

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI 3.0 document, as the registry stores a discovered schema (a copy)."""
        return copy.deepcopy(self._openapi)

    def jsonschema(self) -> dict[str, Any]:
        """The same schema as a JSON Schema draft 4 document (the registry's other format; a copy)."""
        return copy.deepcopy(self._jsonschema)

    def content(self, kind: str = "OpenApi3") -> str:
        """The document as the registry's ``Content`` string (``kind``: ``OpenApi3`` or ``JSONSchemaDraft4``)."""
        if kind not in ("OpenApi3", "JSONSchemaDraft4"):
            raise ValueError(f"kind must be 'OpenApi3' or 'JSONSchemaDraft4', got {kind!r}")
        return json.dumps(self._openapi if kind == "OpenApi3" else self._jsonschema)

    def fields(self) -> dict[str, str]:
        """Every field of the detail, by path (``object.key``, ``items[].name``): its type, and whether optional."""
        components = self._openapi["components"]["schemas"]
        out: dict[str, str] = {}

        def walk(component: str, prefix: str, seen: tuple[str, ...]) -> None:
            schema = components[component]
            required = set(schema.get("required", ()))
            for key, value in schema["properties"].items():
                path = f"{prefix}{key}"
                out[path] = _describe(value) + ("" if key in required else ", optional")
                for ref, suffix in _refs(value, ""):
                    if ref not in seen:
                        walk(ref, f"{path}{suffix}.", seen + (ref,))

        detail = self._openapi["components"]["schemas"]["AWSEvent"]["properties"].get("detail", {})
        for ref, suffix in _refs(detail, ""):
            walk(ref, suffix + "." if suffix else "", (ref,))
        return out

    def bindings(self, folder: Path | str) -> Path:
        """Write this version's Python bindings under ``folder``; the package's folder (see ``generate_bindings``)."""
        from .bindings import generate_bindings

        return generate_bindings(self, folder)


def _refs(schema: dict[str, Any], suffix: str) -> Iterator[tuple[str, str]]:
    """The component names a property schema refers to, with ``[]`` for each array on the way."""
    if "$ref" in schema:
        yield schema["$ref"].rsplit("/", 1)[1], suffix
    for member in schema.get("allOf", []) + schema.get("oneOf", []):
        yield from _refs(member, suffix)
    if "items" in schema:
        yield from _refs(schema["items"], suffix + "[]")


def _describe(schema: dict[str, Any]) -> str:
    """A property schema in words: ``string``, ``integer or null``, ``array of Bucket``."""
    if not schema:
        return "any (only null seen)"
    parts: list[str] = []
    nullable = False

    def walk(s: dict[str, Any]) -> None:
        nonlocal nullable
        nullable = nullable or bool(s.get("nullable"))
        if s.get("enum") == [None]:
            return
        if "$ref" in s:
            parts.append(s["$ref"].rsplit("/", 1)[1])
        elif "oneOf" in s or "allOf" in s:
            for member in s.get("oneOf", []) + s.get("allOf", []):
                walk(member)
        elif s.get("type") == "array":
            parts.append(f"array of {_describe(s['items'])}")
        else:
            parts.append(s["type"] + (f" ({s['format']})" if s.get("format") == "date-time" else ""))

    walk(schema)
    return " or ".join(parts + (["null"] if nullable else []))


def diff(old: Schema, new: Schema) -> dict[str, list[str]]:
    """What changed between two versions: fields ``added``, ``removed`` and ``changed`` (type or optional)."""
    before, after = old.fields(), new.fields()
    return {"added": [f"{k}: {after[k]}" for k in after if k not in before],
            "removed": [f"{k}: {before[k]}" for k in before if k not in after],
            "changed": [f"{k}: {before[k]} -> {after[k]}" for k in after if k in before and before[k] != after[k]]}


# ----------------------------------------------------------------------------------------- inferring
def _events(events: Iterable[Any], bus: str | None = None) -> Iterator[dict[str, Any]]:
    """Event dicts from ``events``: dicts, or the lab's ``(seconds, bus, event)`` log entries (kept if on ``bus``)."""
    for item in events:
        if isinstance(item, tuple) and len(item) == 3 and isinstance(item[2], dict):
            if bus is not None and item[1] != bus:
                continue
            item = item[2]
        if not isinstance(item, dict):
            raise TypeError(f"an event is a dict (or a lab.eventbridge.events entry), got {item!r:.60}")
        if not isinstance(item.get("source"), str) or not isinstance(item.get("detail-type"), str):
            raise ValueError(f"an EventBridge event has a 'source' and a 'detail-type' (strings): {item!r:.80}")
        yield item


def infer(events: Iterable[Any]) -> dict[tuple[str, str], Schema]:
    """A schema per (``source``, ``detail-type``), inferred from every event in ``events`` (each version 1).

    ``events``: event dicts, or ``lab.eventbridge.events`` entries (``(seconds, bus, event)``).
    The same as a new ``Registry``'s latest versions after the same events, but without the history.
    """
    roots: dict[tuple[str, str], Node] = {}
    for event in _events(events):
        roots.setdefault((event["source"], event["detail-type"]), Node()).observe(event)
    out = {}
    for (source, detail_type), root in roots.items():
        openapi, draft4 = _render(root, source, detail_type)
        out[(source, detail_type)] = Schema(source, detail_type, 1, root.seen, DISCOVERED_REGISTRY, openapi, draft4)
    return out


@dataclass
class _Version:
    openapi: dict[str, Any]
    jsonschema: dict[str, Any]
    event_count: int


@dataclass
class _Entry:
    root: Node = field(default_factory=Node)
    versions: list[_Version] = field(default_factory=list)


class Registry:
    """The discovered-schemas registry of one bus: schemas inferred from its events, with versions.

    ``discover(events)`` reads new events (dicts, or ``lab.eventbridge.events`` entries; entries of
    other buses are skipped when the registry has a ``bus``) and then, for each (``source``,
    ``detail-type``) among them, compares the document inferred from every event seen so far with
    the latest version's: the first gets version 1, a different one becomes the next version (a
    producer that adds a field makes version 2, where the new field is optional), an unchanged one
    keeps its version, which then counts the new events too. So a version is made at most once per
    call: events that differ among themselves in one call (a field null in one, a string in
    another) make one version, not several. ``sync(log)`` reads what was appended to the lab's log.
    """

    def __init__(self, bus: str | None = None, name: str = DISCOVERED_REGISTRY):
        self.bus = bus
        self.name = name
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._read = 0  # entries of a log already read by ``sync``

    def __repr__(self) -> str:
        return f"Registry(bus={self.bus!r}, schemas={len(self._entries)})"

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Schema]:
        """The latest version of every schema, in the order they were first seen."""
        return (self.get(*key) for key in self._entries)

    def discover(self, events: Iterable[Any]) -> list[Schema]:
        """Read ``events``; the schema versions this made (at most one per schema), in first-seen order."""
        touched: dict[tuple[str, str], None] = {}
        for event in _events(events, self.bus):
            key = (event["source"], event["detail-type"])
            self._entries.setdefault(key, _Entry()).root.observe(event)
            touched[key] = None
        created = []
        for key in touched:
            entry = self._entries[key]
            openapi, draft4 = _render(entry.root, *key)
            latest = entry.versions[-1] if entry.versions else None
            if latest is not None and openapi == latest.openapi:
                latest.event_count = entry.root.seen
                continue
            entry.versions.append(_Version(openapi, draft4, entry.root.seen))
            created.append(self.get(*key))
        return created

    def sync(self, log: list[Any]) -> list[Schema]:
        """Read what was appended to ``log`` (``lab.eventbridge.events``) since the last ``sync``.

        The log is append-only; one shorter than what was read is taken to be a new log, read whole.
        """
        if len(log) < self._read:
            self._read = 0
        fresh = log[self._read:]
        self._read = len(log)
        return self.discover(fresh)

    def _entry(self, source: str, detail_type: str) -> _Entry:
        try:
            return self._entries[(source, detail_type)]
        except KeyError:
            known = ", ".join(f"{s!r}/{d!r}" for s, d in self._entries) or "none yet"
            raise KeyError(f"no schema for source {source!r} and detail-type {detail_type!r} in {self.name} "
                           f"(known: {known})") from None

    def get(self, source: str, detail_type: str, version: int | None = None) -> Schema:
        """A version of the schema (the latest when ``version`` is None)."""
        versions = self._entry(source, detail_type).versions
        if version is None:
            version = len(versions)
        if not 1 <= version <= len(versions):
            raise KeyError(f"{source}/{detail_type} has versions 1 to {len(versions)}, not {version}")
        v = versions[version - 1]
        return Schema(source, detail_type, version, v.event_count, self.name, v.openapi, v.jsonschema)

    def versions(self, source: str, detail_type: str) -> list[Schema]:
        """Every version of the schema, oldest first."""
        return [self.get(source, detail_type, n) for n in range(1, len(self._entry(source, detail_type).versions) + 1)]

    def schemas(self) -> list[dict[str, Any]]:
        """One row per schema (its latest version): name, source, detail-type, version, events, fields."""
        rows = []
        for schema in self:
            detail = schema._openapi["components"]["schemas"].get(schema.detail_name, {})
            required = set(detail.get("required", ()))
            fields = list(detail.get("properties", {}))
            rows.append({"schema": schema.name, "source": schema.source, "detail-type": schema.detail_type,
                         "version": schema.version, "events": schema.event_count, "fields": fields,
                         "optional": [f for f in fields if f not in required]})
        return rows
