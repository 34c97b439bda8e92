"""Every file the suite stored and reads back (run records, report summaries, the gate reference, teacher
and cost entries, the current imports), read one way: parsed, then checked field by field against the
typed dataclass it was written from, so that a file holding `null`, cut short, or of another shape is one
`StoredFileError` naming the file and the fix, never a traceback deep in a reader and never a wrong value
passed on. What the fix is belongs to the caller (a record is retrained, a cache rebuilt, a reference
regenerated): it is given as `fix`.

`typed(shape, raw)` is the check. [choice] A small converter over the dataclasses' own annotations rather
than a schema library: the dataclasses already are the schema, and a second copy of each in pydantic or
jsonschema would drift from them. It keeps every value as stored (an integer in a float field stays the
integer; only a JSON list read into a tuple field becomes a tuple), so writing back what it read gives
the same JSON."""

from __future__ import annotations

import dataclasses
import json
import sys
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from benchmark.errors import BenchmarkError
from benchmark.files import OS_ERROR_FIXES, describe_os_error

T = TypeVar("T")


class StoredFileError(BenchmarkError):
    """A stored file that cannot be used as it is; `path` names it, the message says the fix."""

    def __init__(self, path: Path, what: str, problem: str, fix: str) -> None:
        super().__init__(f"{path}: not a readable {what} ({problem}): {fix}")
        self.path = path


class ShapeError(ValueError):
    """Where in a stored value its shape differs from the type it must have: "test.weighted_f1: null"."""


def read_json(path: Path, what: str, fix: str) -> Any:
    """The JSON value stored in `path`; unreadable, not UTF-8 or not JSON is a StoredFileError. A path the
    system refuses to read as a file (a folder, no permission) is that, said with its own fix: neither
    restoring nor rebuilding the file would help."""
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except OSError as err:
        if err.errno in OS_ERROR_FIXES:
            raise BenchmarkError(describe_os_error(err)) from None
        raise StoredFileError(path, what, one_line(err), fix) from None
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise StoredFileError(path, what, one_line(err), fix) from None


def read_typed(path: Path, shape: type[T], what: str, fix: str) -> T:
    """The file's JSON as a `shape` (a dataclass, or a `dict[str, X]`/`list[X]` of them)."""
    raw = read_json(path, what, fix)
    try:
        return typed(shape, raw)
    except ShapeError as err:
        raise StoredFileError(path, what, str(err), fix) from None


def rebuilding(err: StoredFileError) -> None:
    """Say, in one line on stderr, that the cache file `err` names is made again (a cache is rebuilt from
    what it caches, so a bad one costs time, never an error); its `fix` says how."""
    print(err, file=sys.stderr)


def typed(shape: Any, raw: Any, where: str = "", names: dict[str, type] | None = None) -> Any:
    """`raw` (a JSON value) checked against `shape` and built into it; a ShapeError says where it differs.
    `names`: classes the dataclasses' annotations name but their modules import only for type checking."""
    origin, arguments = typing.get_origin(shape), typing.get_args(shape)
    if shape is Any:
        return raw
    if dataclasses.is_dataclass(shape):
        return _dataclass(shape, raw, where, names)
    if origin in (typing.Union, types.UnionType):
        for option in arguments:  # None first when allowed: a null is never read as another type
            if option is type(None) and raw is None:
                return None
        for option in arguments:
            if option is not type(None):
                try:
                    return typed(option, raw, where, names)
                except ShapeError:
                    pass
        raise ShapeError(f"{_at(where)}{_shown(raw)} is none of {_name(shape)}")
    if origin is typing.Literal:
        if raw in arguments and type(raw) is type(arguments[arguments.index(raw)]):
            return raw
        raise ShapeError(f"{_at(where)}{_shown(raw)}, expected one of {list(arguments)}")
    if origin is list or origin is tuple:
        if not isinstance(raw, list | tuple):  # a tuple: a record's JSON form in memory, from a worker
            raise ShapeError(f"{_at(where)}{_shown(raw)}, expected a list")
        item = arguments[0] if arguments else Any
        if origin is tuple and arguments and (len(arguments) != 2 or arguments[1] is not Ellipsis):
            raise TypeError(f"only tuple[X, ...] is a stored shape, not {shape}")
        items = [typed(item, value, f"{where}[{i}]", names) for i, value in enumerate(raw)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(raw, dict):
            raise ShapeError(f"{_at(where)}{_shown(raw)}, expected an object")
        value_shape = arguments[1] if arguments else Any
        return {name: typed(value_shape, value, _joined(where, name), names) for name, value in raw.items()}
    if shape is float:  # JSON writes 1.0 as 1 only if asked to; an integer is a float's value all the same
        ok = isinstance(raw, int | float) and not isinstance(raw, bool)
    elif shape is int:
        ok = isinstance(raw, int) and not isinstance(raw, bool)
    elif shape in (str, bool):
        ok = isinstance(raw, shape)
    else:
        raise TypeError(f"{shape!r} is not a stored shape")
    if not ok:
        raise ShapeError(f"{_at(where)}{_shown(raw)}, expected {_name(shape)}")
    return raw


def _dataclass(shape: type, raw: Any, where: str, names: dict[str, type] | None) -> Any:
    if not isinstance(raw, dict):
        raise ShapeError(f"{_at(where)}{_shown(raw)}, expected an object ({shape.__name__})")
    fields = {f.name: f for f in dataclasses.fields(shape) if f.init}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ShapeError(f"{_at(where)}unknown field {unknown[0]!r} for {shape.__name__}")
    hints = _hints(shape, names)
    values = {}
    for name, field in fields.items():
        if name in raw:
            values[name] = typed(hints[name], raw[name], _joined(where, name), names)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ShapeError(f"{_at(where)}no field {name!r} ({shape.__name__})")
    return shape(**values)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(shape: type, names: dict[str, type] | None) -> dict[str, Any]:
    if shape not in _HINTS:
        _HINTS[shape] = typing.get_type_hints(shape, localns=names)
    return _HINTS[shape]


def _at(where: str) -> str:
    """Where a ShapeError's message starts: the field's path, nothing for the file's whole value."""
    return f"{where}: " if where else ""


def _joined(where: str, name: str) -> str:
    shown = name if name.replace("-", "_").replace(" ", "_").isidentifier() else json.dumps(name)
    return f"{where}.{shown}" if where else shown


def _name(shape: Any) -> str:
    return getattr(shape, "__name__", None) or str(shape).replace("typing.", "")


def _shown(raw: Any) -> str:
    shown = json.dumps(raw) if isinstance(raw, str | int | float | bool | type(None)) else type(raw).__name__
    shown = {"dict": "an object", "list": "a list"}.get(shown, shown)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def one_line(err: BaseException) -> str:
    """An exception as one line: a ShapeError says where already, any other says which it is."""
    text = " ".join(str(err).split())
    return text if isinstance(err, ShapeError) else f"{type(err).__name__}: {text}"
