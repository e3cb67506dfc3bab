"""Python code bindings for a schema, laid out as the Schema Registry lays out its own.

``generate_bindings(schema, folder)`` reads the schema's OpenAPI document (as the registry's code
generator does) and writes a package under ``folder``::

    schema/aws/ec2/ec2instancestatechangenotification/
        __init__.py                               exports the classes, Marshaller, the errors
        AWSEvent.py                               the envelope; ``detail`` typed as the class below
        EC2InstanceStateChangeNotification.py     the detail
        <Nested>.py                               one file per nested object (``Bucket.py``)
        marshaller.py                             from_dict/to_dict machinery (the standard library only)

Confirmed against AWS's generated Python bindings (stored copies): the package path
(``schema.aws.ec2.ec2instancestatechangenotification`` for ``aws.ec2@EC2Instance...``,
``schema.<source with . as _>.<name>`` for custom sources: aws/aws-sam-cli
``samcli/lib/schemas/schemas_directory_hierarchy_builder.py`` and aws/aws-toolkit-vscode
``src/test/eventSchemas/model/schemaCodeGenUtils.test.ts``); one file per class named after it, an
``AWSEvent`` class whose ``detail`` is the detail class, attribute names with ``_`` for ``-``
(``detail_type`` for ``detail-type``, ``instance_id`` for ``instance-id``), a ``marshaller.py``
with ``Marshaller.unmarshall(event, AWSEvent)`` / ``Marshaller.marshall(obj)`` that ignores keys it
does not know, an ``__init__.py`` that exports ``Marshaller``, ``AWSEvent`` and the detail class
(aws-samples/aws-serverless-developer-experience-workshop-python, ``.../src/schema/...``).

Where the lab differs, on purpose: the classes are dataclasses (AWS's are plain classes with
properties and ``_types``/``_attribute_map`` tables); imports inside the package are relative, so
two versions can be imported side by side; values keep their JSON form (AWS parses ``date-time``
strings into ``datetime``), so a round trip gives back the same dict; a missing required field or a
value of the wrong type raises a clear error (AWS's marshaller fills in None). camelCase keys become
snake_case attributes (``eventTypeCode`` -> ``event_type_code``), as the swagger-codegen templates
AWS's bindings come from do; this was not confirmed on a registry sample.

Libraries considered (installed in the lab's environment): datamodel-code-generator, the usual tool
for OpenAPI to Python models, is not installed; pydantic (and Powertools' ``EventBridgeModel``,
built on it) is, but bindings that need it would need it in every function's package too, and its
``EventBridgeModel`` turns ``time`` into a ``datetime``, so a round trip would not give back the
same event; Jinja2 would only replace a few f-strings. So the generator is written here and the
bindings need nothing but the standard library.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import keyword
import re
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

from .infer import Schema, _refs

__all__ = ["generate_bindings", "import_bindings", "package_name"]

_MARSHALLER = Path(__file__).with_name("marshaller.py")
#: Attribute names the generated code cannot use as they are (annotations and helpers it names).
_RESERVED_ATTRS = frozenset({"bool", "dict", "float", "int", "list", "str", "prop", "dataclass", "from_dict",
                             "to_dict"})
_LINE = 100


# --------------------------------------------------------------------------------------------- names
def _sanitize(name: str) -> str:
    return re.sub(r"[@]", ".", re.sub(r"[^a-zA-Z0-9_@]", "_", name))


def package_name(schema_name: str) -> str:
    """The registry's Python package for a schema name: ``aws.ec2@EC2X`` -> ``schema.aws.ec2.ec2x``.

    The rule of AWS's code generation as the AWS toolkits reproduce it: characters other than
    ``[a-zA-Z0-9_@]`` become ``_``, ``@`` separates packages, ``aws.`` sources keep their dots.
    """
    if schema_name.startswith("aws.partner-"):
        return f"schema.aws.partner.{_sanitize(schema_name[len('aws.partner-'):])}".lower()
    if schema_name.startswith("aws."):
        return ".".join(["schema", *(_sanitize(part) for part in schema_name.split("."))]).lower()
    return f"schema.{_sanitize(schema_name)}".lower()


def _snake(key: str) -> str:
    text = re.sub(r"\W+", "_", key)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"_+", "_", text.lower()).strip("_") or "field"
    if not text[0].isalpha():
        text = f"field_{text}"
    if not text.isidentifier():
        text = "field"
    if keyword.iskeyword(text) or text in _RESERVED_ATTRS:
        text = f"{text}_"
    return text


def _attributes(keys: list[str]) -> dict[str, str]:
    """JSON key -> attribute name, unique within a class."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for key in keys:
        name, n = _snake(key), 1
        candidate = name
        while candidate in taken:
            n += 1
            candidate = f"{name}_{n}"
        taken.add(candidate)
        out[key] = candidate
    return out


def _lit(text: str) -> str:
    """A double-quoted Python string literal (JSON's escapes are Python's)."""
    return json.dumps(text, ensure_ascii=False)


def _docstring(text: str) -> list[str]:
    """A class docstring, wrapped to the line length."""
    one = f'    """{text}"""'
    if len(one) <= _LINE:
        return [one]
    wrapped = textwrap.wrap(text, _LINE - 4, break_long_words=False, break_on_hyphens=False)
    return [f'    """{wrapped[0]}', *(f"    {line}" for line in wrapped[1:]), '    """']


# ---------------------------------------------------------------------------------------- the types
def _ref_name(schema: dict[str, Any]) -> str:
    return schema["$ref"].rsplit("/", 1)[1]


def _annotation(schema: dict[str, Any], used: set[str]) -> tuple[str, bool]:
    """A property schema as a Python annotation, and whether it admits null."""
    if not schema:
        used.add("Any")
        return "Any", True
    nullable = bool(schema.get("nullable"))
    if schema.get("enum") == [None]:  # null alone, beside an object in a oneOf
        return "None", True
    if "$ref" in schema:
        name = _ref_name(schema)
        used.add(name)
        return name, nullable
    if "allOf" in schema or "oneOf" in schema:
        parts, any_null = [], nullable
        for member in schema.get("allOf", []) + schema.get("oneOf", []):
            text, member_null = _annotation(member, used)
            if text != "None":
                parts.append(text)
            any_null = any_null or member_null
        return " | ".join(parts), any_null
    kind = schema.get("type")
    if kind == "array":
        item, item_null = _annotation(schema.get("items", {}), used)
        if item_null and item != "Any":
            item = f"{item} | None"
        return f"list[{item}]", nullable
    if kind == "object":  # an object the events never showed (items of arrays seen empty)
        used.add("Any")
        return "dict[str, Any]", nullable
    return {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}[kind], nullable


# ------------------------------------------------------------------------------------------ writing
def _header(schema: Schema) -> list[str]:
    events = "event" if schema.event_count == 1 else "events"
    return [f"# Generated by lambda_lab.schemas from {schema.event_count} {events}: do not edit, regenerate.",
            f"# Schema {schema.name}, version {schema.version}, registry {schema.registry}."]


def _union_parts(annotation: str) -> list[str]:
    """The members of an annotation's top-level union (``a | list[b | c]`` -> ``a``, ``list[b | c]``)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(annotation):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if depth == 0 and annotation.startswith(" | ", i):
            parts.append(annotation[start:i])
            start = i + 3
    return [*parts, annotation[start:]]


def _field_line(attr: str, annotation: str, key: str, optional: bool, nullable: bool) -> list[str]:
    """A field, on one line if it fits, else split as black splits it."""
    options = "".join([", optional=True" if optional else "", ", nullable=True" if nullable else ""])
    default = f"prop({_lit(key)}{options})"
    line = f"    {attr}: {annotation} = {default}"
    if len(line) <= _LINE:
        return [line]
    if len(f"    {attr}: {annotation} = prop(") <= _LINE:
        return [f"    {attr}: {annotation} = prop(", f"        {_lit(key)}{options}", "    )"]
    lines, current = [], ""
    for n, part in enumerate(_union_parts(annotation)):  # a long annotation: parenthesised, a member a line
        piece = part if n == 0 else f"| {part}"
        if current and len(f"        {current} {piece}") > _LINE:
            lines.append(f"        {current}")
            current = piece
        else:
            current = f"{current} {piece}" if current else piece
    return [f"    {attr}: (", *lines, f"        {current}", f"    ) = {default}"]


def _paths(components: dict[str, Any]) -> dict[str, str]:
    """Where each component sits in the event (``detail.bucket``), breadth first from the envelope."""
    paths = {"AWSEvent": "the event"}
    queue = ["AWSEvent"]
    while queue:
        name = queue.pop(0)
        prefix = "" if name == "AWSEvent" else f"{paths[name]}."
        for key, value in components[name]["properties"].items():
            for ref, suffix in _refs(value, ""):
                if ref not in paths:
                    paths[ref] = f"{prefix}{key}{suffix}"
                    queue.append(ref)
    return paths


def _class_module(schema: Schema, name: str, component: dict[str, Any], where: str, detail: str | None) -> str:
    used: set[str] = set()
    required = set(component.get("required", ()))
    keys = list(component["properties"])
    attributes = _attributes(keys)
    body: list[str] = []
    for key in keys:
        annotation, nullable = _annotation(component["properties"][key], used)
        optional = key not in required
        if (optional or nullable) and annotation != "Any":
            annotation = f"{annotation} | None"
        body += _field_line(attributes[key], annotation, key, optional, nullable and annotation != "Any")
    source, detail_type = _lit(schema.source)[1:-1], _lit(schema.detail_type)[1:-1]
    if name == "AWSEvent":
        doc = f'A whole "{detail_type}" event from {source}: the envelope, with ``detail`` parsed.'
    elif name == detail:
        doc = f'The ``detail`` of "{detail_type}" events from {source}.'
    else:
        doc = f"The object at ``{where}`` (component {name})."
    imports = ["from dataclasses import dataclass"]
    if "Any" in used:
        imports.append("from typing import Any")
    local = sorted([*(n for n in used if n not in ("Any", name)), "marshaller"], key=str.lower)
    relative = [f"from .{n} import Binding, prop" if n == "marshaller" else f"from .{n} import {n}" for n in local]
    lines = [*_header(schema), "", *imports, "", *relative, "", "",
             "@dataclass(kw_only=True)", f"class {name}(Binding):", *_docstring(doc)]
    if body:
        lines += ["", *body]
    return "\n".join(lines) + "\n"


def _init_module(schema: Schema, classes: list[str], detail: str | None) -> str:
    errors = ["FieldTypeError", "Marshaller", "MissingFieldError", "SchemaError"]
    exports = sorted([*classes, *errors])
    lines = [*_header(schema), f'"""Bindings for {_lit(schema.name)[1:-1]}, version {schema.version}.', "",
             "``AWSEvent.from_dict(event)`` reads a whole event (``Marshaller.unmarshall(event, AWSEvent)``",
             "as in AWS's bindings); ``.to_dict()`` gives it back. Unknown keys are ignored; a missing",
             "required field raises MissingFieldError, a value of another type FieldTypeError.",
             '"""', ""]
    for name in sorted([*classes, "marshaller"], key=str.lower):
        names = ", ".join(errors) if name == "marshaller" else name
        lines.append(f"from .{name} import {names}")
    lines += ["", f"SCHEMA_NAME = {_lit(schema.name)}", f"SOURCE = {_lit(schema.source)}",
              f"DETAIL_TYPE = {_lit(schema.detail_type)}", f"VERSION = {schema.version}",
              f"EVENT_COUNT = {schema.event_count}", f"DETAIL_CLASS = {_lit(detail) if detail else 'None'}", "",
              "__all__ = ["]
    lines += [f"    {_lit(name)}," for name in exports] + ["]"]
    return "\n".join(lines) + "\n"


def _marshaller_module(schema: Schema) -> str:
    return "\n".join(_header(schema)) + "\n" + _MARSHALLER.read_text(encoding="utf-8")


def generate_bindings(schema: Schema, folder: Path | str) -> Path:
    """Write the schema's Python bindings under ``folder``; the package's folder.

    The package is ``folder/schema/.../<name>/`` (``package_name``), a file per class plus
    ``marshaller.py`` and ``__init__.py``; every file starts with a comment saying it was generated
    from N events. The same schema gives the same bytes. Import it with ``import_bindings(path)``,
    or put ``folder`` on ``sys.path`` and import the package by name.
    """
    openapi = schema.openapi()
    components: dict[str, Any] = openapi["components"]["schemas"]
    detail_property = components["AWSEvent"]["properties"].get("detail", {})
    detail = next((ref for ref, _ in _refs(detail_property, "")), None)
    paths = _paths(components)
    files: dict[str, str] = {}
    for name, component in components.items():
        if not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(f"component name {name!r} is not a Python class name")
        files[f"{name}.py"] = _class_module(schema, name, component, paths.get(name, name), detail)
    files["marshaller.py"] = _marshaller_module(schema)
    files["__init__.py"] = _init_module(schema, list(components), detail)

    root = Path(folder)
    parts = package_name(schema.name).split(".")
    package = root.joinpath(*parts)
    package.mkdir(parents=True, exist_ok=True)
    for depth in range(1, len(parts)):  # the parent packages: empty __init__.py files
        init = root.joinpath(*parts[:depth], "__init__.py")
        if not init.exists():
            init.write_text("", encoding="utf-8")
    for stale in package.glob("*.py"):
        if stale.name not in files:
            stale.unlink()
    for filename, text in files.items():
        (package / filename).write_text(text, encoding="utf-8", newline="\n")
    return package


def import_bindings(package: Path | str, name: str | None = None) -> ModuleType:
    """Import a generated package from its folder, under ``name`` (default: a name made from the path).

    Imports afresh each time (a regenerated package is read again), so two versions of one schema,
    generated into two folders, can be used side by side.
    """
    folder = Path(package).resolve()
    if name is None:
        name = "lambda_lab_bindings_" + hashlib.sha1(str(folder).encode()).hexdigest()[:12]
    for loaded in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
        del sys.modules[loaded]
    spec = importlib.util.spec_from_file_location(name, folder / "__init__.py",
                                                  submodule_search_locations=[str(folder)])
    if spec is None or spec.loader is None:
        raise ImportError(f"no package at {folder}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
