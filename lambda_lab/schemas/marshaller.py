"""The runtime of generated bindings: turns an event (a dict) into dataclasses and back.

``lambda_lab.schemas.generate_bindings`` copies this file, unchanged below a header, into every
package it writes, as ``marshaller.py`` (the name AWS's Python bindings use for the same job), so a
generated package needs nothing but the standard library. AWS's own generated ``Marshaller`` has
``Marshaller.unmarshall(event, AWSEvent)`` and ``Marshaller.marshall(obj)``; this one keeps those
two names, and every generated class also has ``from_dict`` and ``to_dict``.

How a class describes itself: each field is a dataclass field made with ``prop(key, ...)``, which
records the JSON key (``detail-type`` for ``detail_type``), whether the key may be absent
(``optional``) and whether the value may be JSON null (``nullable``). The annotation gives the
value's type: ``str``, ``int``, ``float`` (which takes JSON integers too), ``bool``, ``Any`` (any
JSON value), ``dict[str, Any]`` (any JSON object), ``list[T]``, another generated class, or a union
of these (``str | int``). Inside a list, ``None`` in the annotation means the item may be null.

What is checked, and what is not:

- a required key that is missing raises ``MissingFieldError`` (a ``KeyError`` and a ``ValueError``)
  naming the key, the class and where in the event it was expected;
- a value of the wrong JSON type raises ``FieldTypeError`` (a ``TypeError`` and a ``ValueError``);
- keys the class does not know are ignored, as AWS's generated marshaller ignores them: a binding
  generated from an older schema version reads newer events, without their new fields;
- values are kept exactly as they came: a date-time stays a string (AWS's bindings parse it into a
  ``datetime`` when ``python-dateutil`` is installed), an integer in a ``float`` field stays an
  integer. So ``Cls.from_dict(d).to_dict() == d`` for every ``d`` the schema describes.

An optional field that was absent is ``None`` and is left out of ``to_dict``; an optional field
that came as an explicit null (when the schema allows null) is written back as null.
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from typing import Any

__all__ = ["Binding", "FieldTypeError", "Marshaller", "MissingFieldError", "SchemaError", "prop"]

#: Where ``from_dict`` records the optional fields that came as an explicit null.
_NULLS = "_explicit_nulls"


class SchemaError(ValueError):
    """An event does not fit the schema its binding was generated from."""

    def __init__(self, message: str, *, cls: str, key: str, path: str):
        super().__init__(message)
        self.message, self.cls, self.key, self.path = message, cls, key, path

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return self.message


class MissingFieldError(SchemaError, KeyError):
    """A required field is missing from the event."""


class FieldTypeError(SchemaError, TypeError):
    """A field's value has a JSON type the schema does not allow."""


def prop(key: str, *, optional: bool = False, nullable: bool = False) -> Any:
    """A dataclass field for the JSON key ``key``.

    ``optional``: the key may be absent (the field is then None).
    ``nullable``: the value may be null.
    """
    metadata = {"key": key, "optional": optional, "nullable": nullable}
    if optional:
        return dataclasses.field(default=None, metadata=metadata)
    return dataclasses.field(metadata=metadata)


class Binding:
    """The base of every generated dataclass: ``from_dict`` and ``to_dict``."""

    @classmethod
    def from_dict(cls, data: Any) -> Any:
        """The instance for ``data`` (a dict, as in the event); SchemaError if it does not fit."""
        return Marshaller.unmarshall(data, cls)

    def to_dict(self) -> dict[str, Any]:
        """The dict this instance stands for (JSON keys; absent optional fields left out)."""
        return Marshaller.marshall(self)


def _union_members(tp: Any) -> tuple[Any, ...] | None:
    """The members of a union (``str | int``, ``Union[str, int]``), or None for another type."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return typing.get_args(tp)
    return None


def _path(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


def _describe(tp: Any) -> str:
    """A type as the schema would name it (for error messages)."""
    if tp is Any:
        return "any value"
    if tp is type(None):
        return "null"
    members = _union_members(tp)
    if members is not None:
        return " or ".join(_describe(member) for member in members)
    origin = typing.get_origin(tp)
    if origin is list:
        (item,) = typing.get_args(tp) or (Any,)
        return f"array of {_describe(item)}"
    if origin is dict or tp is dict:
        return "object"
    if dataclasses.is_dataclass(tp):
        return f"object ({tp.__name__})"
    return {str: "string", int: "integer", float: "number", bool: "boolean"}.get(tp, repr(tp))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _fits(value: Any, tp: Any) -> bool:
    """Does ``value`` have the JSON type ``tp`` names (not looking inside lists and objects)?"""
    if tp is Any:
        return True
    if tp is type(None):
        return value is None
    origin = typing.get_origin(tp)
    if origin is list:
        return isinstance(value, list)
    if origin is dict or tp is dict or dataclasses.is_dataclass(tp):
        return isinstance(value, dict)
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is str:
        return isinstance(value, str)
    return False


class Marshaller:
    """Between JSON-shaped dicts and the generated dataclasses (named as in AWS's bindings)."""

    @classmethod
    def unmarshall(cls, data: Any, type_name: Any, *, path: str = "") -> Any:
        """``data`` read as ``type_name`` (a generated class, or a type annotation)."""
        owner = getattr(type_name, "__name__", "event")
        return cls._load(data, type_name, path, owner=owner, key=path)

    @classmethod
    def marshall(cls, obj: Any) -> Any:
        """``obj`` (a generated instance, or a list or value inside one) as JSON-shaped data."""
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            out: dict[str, Any] = {}
            nulls = getattr(obj, _NULLS, frozenset())
            for f in dataclasses.fields(obj):
                value = getattr(obj, f.name)
                key = f.metadata.get("key", f.name)
                if value is None and f.metadata.get("optional") and key not in nulls:
                    continue  # absent in the event: stays absent
                out[key] = cls.marshall(value)
            return out
        if isinstance(obj, list):
            return [cls.marshall(item) for item in obj]
        if isinstance(obj, dict):
            return copy.deepcopy(obj)
        return obj

    # --- reading ------------------------------------------------------------------------------
    @classmethod
    def _load(
        cls, value: Any, tp: Any, path: str, *, owner: str, key: str, null: bool = False
    ) -> Any:
        if dataclasses.is_dataclass(tp) and isinstance(tp, type):
            if not isinstance(value, dict):
                raise FieldTypeError(
                    f"{owner}: {path or 'the event'} should be an object ({tp.__name__}), "
                    f"got {_json_type(value)} {value!r:.60}",
                    cls=owner,
                    key=key,
                    path=path,
                )
            return cls._load_object(value, tp, path)
        for member in _union_members(tp) or (tp,):
            if _fits(value, member):
                return cls._load_member(value, member, path, owner=owner, key=key)
        where = f" (at {path})" if path else ""
        raise FieldTypeError(
            f"{owner}: field {key!r}{where} should be {_describe(tp)}{' or null' if null else ''}, "
            f"got {_json_type(value)} {value!r:.60}",
            cls=owner,
            key=key,
            path=path,
        )

    @classmethod
    def _load_member(cls, value: Any, tp: Any, path: str, *, owner: str, key: str) -> Any:
        if dataclasses.is_dataclass(tp) and isinstance(tp, type):
            return cls._load_object(value, tp, path)
        if typing.get_origin(tp) is list:
            (item,) = typing.get_args(tp) or (Any,)
            return [
                cls._load(v, item, f"{path}[{i}]", owner=owner, key=key)
                for i, v in enumerate(value)
            ]
        if tp is Any or typing.get_origin(tp) is dict or tp is dict:
            return copy.deepcopy(value)
        return value

    @classmethod
    def _load_object(cls, data: dict[str, Any], tp: type, path: str) -> Any:
        kwargs: dict[str, Any] = {}
        nulls = set()
        for f in dataclasses.fields(tp):
            key = f.metadata.get("key", f.name)
            where = _path(path, key)
            optional = f.metadata.get("optional", False)
            nullable = f.metadata.get("nullable", False)
            if key not in data:
                if optional:
                    continue
                raise MissingFieldError(
                    f"{tp.__name__}: required field {key!r} is missing (expected at {where})",
                    cls=tp.__name__,
                    key=key,
                    path=where,
                )
            value = data[key]
            if value is None and (nullable or f.type is Any):
                kwargs[f.name] = None
                if optional:
                    nulls.add(key)
                continue
            value_type = f.type
            if optional or nullable:  # the None in ``T | None`` is absence or null, handled above
                members = [m for m in _union_members(f.type) or (f.type,) if m is not type(None)]
                value_type = members[0] if len(members) == 1 else typing.Union[tuple(members)]
            kwargs[f.name] = cls._load(
                value, value_type, where, owner=tp.__name__, key=key, null=nullable
            )
        instance = tp(**kwargs)
        if nulls:
            setattr(instance, _NULLS, frozenset(nulls))
        return instance
