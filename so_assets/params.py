"""Typed parameters: one frozen dataclass per model family (and per step), its fields declared with
:func:`param` (type, default, allowed range and a one-line doc, each written once).

Like scikit-learn's estimators, every parameter is an explicit field and its constraints are
checked in one place (:meth:`Params.__post_init__`). Registry entries, run config, the
command line and saved models all build parameters through :meth:`Params.from_dict`, which
refuses an unknown key (naming it and listing the valid ones) and an ill-typed value.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, Self


def param(default: Any, doc: str, *, ge: float | None = None, gt: float | None = None,
          le: float | None = None) -> Any:
    """A parameter field: its default, its doc and the bounds its value must keep."""
    return dataclasses.field(default=default, metadata={"doc": doc, "ge": ge, "gt": gt, "le": le})


@functools.cache
def field_types(cls: type) -> dict[str, Any]:
    """The resolved annotation of every field of ``cls``."""
    return typing.get_type_hints(cls)


def _type_name(kind: Any) -> str:
    if typing.get_origin(kind) is Literal:
        return " or ".join(repr(v) for v in typing.get_args(kind))
    if isinstance(kind, types.UnionType):
        return " or ".join(_type_name(k) for k in typing.get_args(kind))
    if typing.get_origin(kind) is tuple:
        return f"a list of {_type_name(typing.get_args(kind)[0])}"
    if kind is type(None):
        return "null"
    return getattr(kind, "__name__", str(kind))


def _coerce(kind: Any, value: Any, where: str) -> Any:
    """``value`` as a value of ``kind`` (an int where a float is wanted becomes a float, a list
    where a tuple is wanted a tuple, a mapping where parameters are wanted those parameters);
    a ``ValueError`` naming ``where`` otherwise."""
    if isinstance(kind, types.UnionType):
        for option in typing.get_args(kind):
            try:
                return _coerce(option, value, where)
            except ValueError:
                continue
    elif kind is type(None):
        if value is None:
            return None
    elif typing.get_origin(kind) is Literal:
        if isinstance(value, str) and value in typing.get_args(kind):
            return value
    elif typing.get_origin(kind) is tuple:
        if isinstance(value, list | tuple):
            return tuple(_coerce(typing.get_args(kind)[0], v, f"{where}[{i}]")
                         for i, v in enumerate(value))
    elif isinstance(kind, type) and issubclass(kind, Params):
        if isinstance(value, kind):
            return value
        if isinstance(value, Mapping):
            return kind.from_dict(value, where=f"{where}.")
    elif kind is bool:
        if isinstance(value, bool):
            return value
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif kind is str and isinstance(value, str):
        return value
    raise ValueError(f"parameter {where!r} must be {_type_name(kind)}, not {value!r}")


def _check_bounds(field: dataclasses.Field, value: Any, where: str) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return
    meta = field.metadata
    for bound, holds, word in (("ge", lambda b: value >= b, ">="), ("gt", lambda b: value > b, ">"),
                               ("le", lambda b: value <= b, "<=")):
        if meta.get(bound) is not None and not holds(meta[bound]):
            raise ValueError(f"parameter {where!r} must be {word} {meta[bound]}, not {value!r}")


@dataclasses.dataclass(frozen=True)
class Params:
    """Base of every parameter class: typed, bounded fields with one-line docs."""

    def __post_init__(self) -> None:
        hints = field_types(type(self))
        for field in dataclasses.fields(self):
            value = _coerce(hints[field.name], getattr(self, field.name), field.name)
            _check_bounds(field, value, field.name)
            object.__setattr__(self, field.name, value)

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None = None, *, where: str = "") -> Self:
        """Parameters from plain values (nested mappings for nested parameters); an unknown
        key or an ill-typed or out-of-range value is refused with a message naming it."""
        values = dict(values or {})
        unknown = sorted(set(values) - set(cls.names()))
        if unknown:
            raise ValueError(f"unknown parameter '{where}{unknown[0]}' for {cls.__name__}; "
                             f"valid: {', '.join(cls.names())}")
        hints = field_types(cls)
        coerced = {k: _coerce(hints[k], v, f"{where}{k}") for k, v in values.items()}
        try:
            return cls(**coerced)
        except ValueError as error:  # a bound: name the full path
            raise ValueError(str(error).replace("parameter '", f"parameter '{where}", 1)
                             ) from None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (nested parameters as mappings, tuples as lists)."""
        def plain(value: Any) -> Any:
            if isinstance(value, Params):
                return value.to_dict()
            if isinstance(value, tuple):
                return [plain(v) for v in value]
            return value

        return {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def with_values(self, changes: Mapping[str, Any]) -> Self:
        """A copy with ``changes`` applied (nested mappings change nested parameters field by
        field); refused like :meth:`from_dict`."""
        return type(self).from_dict(_merged(self.to_dict(), changes))

    def flat(self, prefix: str = "") -> dict[str, Any]:
        """Every value under a dotted name (``train.epochs``), for reports and logs."""
        out: dict[str, Any] = {}
        for name, value in ((f.name, getattr(self, f.name)) for f in dataclasses.fields(self)):
            if isinstance(value, Params):
                out |= value.flat(f"{prefix}{name}.")
            else:
                out[f"{prefix}{name}"] = list(value) if isinstance(value, tuple) else value
        return out


def _merged(base: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def describe(cls: type[Params]) -> list[tuple[str, str, Any, str]]:
    """(name, type, default, doc with bounds) of every field, nested fields dotted."""
    rows = []
    hints = field_types(cls)
    for field in dataclasses.fields(cls):
        kind = hints[field.name]
        if isinstance(kind, type) and issubclass(kind, Params):
            rows += [(f"{field.name}.{n}", t, d, doc) for n, t, d, doc in describe(kind)]
            continue
        bounds = ", ".join(f"{word} {field.metadata[b]}" for b, word in
                           (("ge", ">="), ("gt", ">"), ("le", "<="))
                           if field.metadata.get(b) is not None)
        doc = field.metadata.get("doc", "") + (f" ({bounds})" if bounds else "")
        rows.append((field.name, _type_name(kind), field.default, doc))
    return rows
