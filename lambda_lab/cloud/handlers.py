"""Handlers as code for a SAM project: a module's handler with its module, a cell's from its source.

- A handler defined at the top level of a module file (``handler.__module__`` names a module with a
  file, not ``__main__``) is exported by copying that file into the function's code folder:
  ``Handler: <module>.<function>``.
- A handler defined in a notebook cell (module ``__main__``) is exported from its source
  (``inspect.getsource``) into ``app.py`` when it is self-contained: the names it reads from the
  notebook are modules (written back as ``import`` lines) or names imported from a module (written
  back as ``from ... import ...``). A helper function, a constant or a client made in another cell
  is notebook state: the handler is refused with what to change.
- A lambda expression, a closure (a function made inside another function) or any callable that is
  not a plain function is refused.

``stub_unexportable=True`` writes a stub (``app.handler`` raising ``NotImplementedError``) instead
of refusing, and the export report lists it.
"""

from __future__ import annotations

import builtins
import dis
import inspect
import shutil
import sys
import textwrap
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Top-level packages the python3.11 Lambda runtime provides besides the standard library.
RUNTIME_PACKAGES = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"})

HOW_TO_FIX = ("define it with `def name(event, context):` at the top level of a module file, or of a notebook "
              "cell with everything it uses imported inside that cell (no helpers, constants, `lab` or clients "
              "from other cells: make clients with boto3.client(...) inside the cell), then export again; or pass "
              "stub_unexportable=True to write a stub for it")


class Unexportable(Exception):
    """Why one handler cannot be exported as code."""


@dataclass
class Exported:
    """How one function's code was exported."""

    function: str
    handler: str  # the SAM Handler property
    mode: str  # "module", "source" or "stub"
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reason: str | None = None  # why a stub was written


def _loaded_names(code: types.CodeType) -> list[str]:
    """Names the code (and the code nested in it) reads or writes as globals, in order, once each."""
    names: list[str] = []
    for ins in dis.get_instructions(code):
        if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME", "STORE_GLOBAL", "DELETE_GLOBAL") and ins.argval not in names:
            names.append(ins.argval)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names += [n for n in _loaded_names(const) if n not in names]
    return names


def _module_of(handler: Any) -> types.ModuleType | None:
    """The module file a handler can be copied with, or None (a cell, ``__main__`` or no file)."""
    name = getattr(handler, "__module__", None)
    module = sys.modules.get(name) if name else None
    if module is None or name == "__main__" or not getattr(module, "__file__", None):
        return None
    if not str(module.__file__).endswith(".py"):
        return None
    return module


def _check_function(handler: Any) -> None:
    if not isinstance(handler, types.FunctionType):
        raise Unexportable(f"its handler {handler!r} is not a plain function (a {type(handler).__name__})")
    if handler.__name__ == "<lambda>":
        raise Unexportable("its handler is a lambda expression, which has no name Lambda can call")
    if handler.__closure__ or "<locals>" in handler.__qualname__:
        free = ", ".join(handler.__code__.co_freevars) or "its enclosing function"
        raise Unexportable(f"its handler {handler.__qualname__} is a closure: it is made inside another function "
                           f"and reads {free} from there")


def _imports_for_source(handler: types.FunctionType) -> list[str]:
    """``import`` lines for the globals a cell-defined handler reads; Unexportable for notebook state."""
    lines: list[str] = []
    state: list[str] = []
    scope = handler.__globals__
    for name in _loaded_names(handler.__code__):
        if name not in scope:
            if hasattr(builtins, name):
                continue
            state.append(f"{name} (not defined)")
            continue
        value = scope[name]
        if isinstance(value, types.ModuleType):
            lines.append(f"import {value.__name__}" if value.__name__ == name else
                         f"import {value.__name__} as {name}")
            continue
        origin = getattr(value, "__module__", None)
        if (origin and origin != "__main__" and isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType))
                and getattr(sys.modules.get(origin), getattr(value, "__name__", ""), None) is value):
            attr = value.__name__
            lines.append(f"from {origin} import {attr}" if attr == name else f"from {origin} import {attr} as {name}")
            continue
        state.append(f"{name} ({type(value).__name__})")
    if state:
        raise Unexportable(f"its handler {handler.__name__} reads notebook state: {', '.join(state)}")
    return sorted(set(lines))


def _third_party(module: types.ModuleType) -> list[str]:
    """Top-level packages a module imports that the Lambda runtime does not have."""
    found: set[str] = set()
    for value in vars(module).values():
        origin = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
        if not isinstance(origin, str) or origin == module.__name__:
            continue
        top = origin.split(".")[0]
        if top in sys.stdlib_module_names or top in RUNTIME_PACKAGES or top == "builtins":
            continue
        if isinstance(value, (types.ModuleType, type, types.FunctionType)):
            found.add(top)
    return sorted(found)


def check(handler: Any) -> None:
    """Raise Unexportable when ``handler`` cannot be exported as code."""
    _check_function(handler)
    module = _module_of(handler)
    if module is not None:
        if getattr(module, handler.__name__, None) is not handler:
            raise Unexportable(f"its handler {handler.__qualname__} is not reachable as "
                               f"{module.__name__}.{handler.__name__}")
        return
    try:
        inspect.getsource(handler)
    except (OSError, TypeError) as e:
        raise Unexportable(f"the source of its handler {handler.__name__} cannot be read ({e})") from None
    _imports_for_source(handler)


def export(function_name: str, handler: Any, folder: Path, *, reason: str | None = None) -> Exported:
    """Write ``handler``'s code into ``folder``; a stub when ``reason`` says why it cannot be exported."""
    folder.mkdir(parents=True, exist_ok=True)
    if reason is not None:
        text = " ".join(reason.replace('"', "'").replace("\\", "/").split())
        (folder / "app.py").write_text(STUB.format(name=function_name, reason=text))
        return Exported(function_name, "app.handler", "stub", ["app.py"], reason=reason)
    module = _module_of(handler)
    if module is not None:
        base = module.__name__.rsplit(".", 1)[-1]
        shutil.copyfile(module.__file__, folder / f"{base}.py")
        notes = []
        extra = _third_party(module)
        if extra:
            notes.append(f"module {module.__name__} imports {', '.join(extra)}, which the Lambda runtime does not "
                         f"have: add them to a requirements.txt in this folder, or move the handler to a module "
                         f"that does not import them")
        return Exported(function_name, f"{base}.{handler.__name__}", "module", [f"{base}.py"], notes)
    source = textwrap.dedent(inspect.getsource(handler))
    imports = _imports_for_source(handler)
    header = f'"""Handler of {function_name}, exported by lambda_lab from its notebook source."""\n\n'
    body = header + ("\n".join(imports) + "\n\n\n" if imports else "") + source.rstrip() + "\n"
    (folder / "app.py").write_text(body)
    extra = sorted({line.split()[1].split(".")[0] for line in imports} - set(sys.stdlib_module_names)
                   - RUNTIME_PACKAGES)
    notes = [f"app.py imports {', '.join(extra)}, which the Lambda runtime does not have: add them to a "
             f"requirements.txt in this folder (sam build installs it)"] if extra else []
    return Exported(function_name, f"app.{handler.__name__}", "source", ["app.py"], notes)


STUB = '''"""Stub for {name}: its handler could not be exported as code ({reason})."""


def handler(event, context):
    raise NotImplementedError("{name}: replace this stub with the function's handler")
'''


def stub_needed(handler: Any) -> str | None:
    """Why ``handler`` needs a stub, or None when it can be exported."""
    try:
        check(handler)
    except Unexportable as e:
        return str(e)
    return None
