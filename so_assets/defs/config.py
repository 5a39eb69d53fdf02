"""Launchpad configs and resources made from the core's parameter dataclasses, so a parameter's
name, type, default and help are written once (in the core) and nowhere here."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, TypeVar

import dagster as dg
import pydantic

from so_assets.params import Params, describe, field_types

P = TypeVar("P", bound=Params)


def _fields(params: type) -> dict[str, Any]:
    hints = typing.get_type_hints(params)
    return {f.name: (hints[f.name], pydantic.Field(default=f.default,
                                                  description=f.metadata.get("doc")))
            for f in dataclasses.fields(params)}


def resource_class(params: type, base: type[dg.ConfigurableResource], name: str
                   ) -> type[dg.ConfigurableResource]:
    """``base`` (its methods) with the fields of the dataclass ``params``."""
    return pydantic.create_model(name, __base__=base, __doc__=base.__doc__,
                                 __module__=base.__module__, **_fields(params))


def params_of(config: pydantic.BaseModel, params: type[P]) -> P:
    """The parameters a launchpad config holds, checked by their class (types and bounds)."""
    return params.from_dict(config.model_dump())


def _config_type(kind: Any, default: Any, name: str) -> tuple[Any, Any]:
    """The launchpad type of a parameter field and its default there (nested parameters
    become nested configs, tuples lists)."""
    if isinstance(kind, type) and issubclass(kind, Params):
        nested = params_config(default if isinstance(default, kind) else kind(), name)
        return nested, nested()
    if isinstance(kind, types.UnionType):
        options = [k for k in typing.get_args(kind) if k is not type(None)]
        if len(options) == 1 and isinstance(options[0], type) and issubclass(options[0],
                                                                               Params):
            nested, nested_default = _config_type(options[0], default, name)
            return nested | None, nested_default if default is not None else None
    if typing.get_origin(kind) is tuple:  # Dagster takes no list of literals: checked later
        item = typing.get_args(kind)[0]
        return list[str if typing.get_origin(item) is typing.Literal else item], list(default)
    return kind, default


def params_config(params: Params, name: str) -> type[dg.Config]:
    """A ``dg.Config`` whose fields are those of ``params``' class, with ``params``' values as
    defaults and each field's doc (with its bounds) as help; nested parameters nest."""
    cls = type(params)
    docs = {row[0]: row[3] for row in describe(cls)}
    fields = {}
    for field in dataclasses.fields(cls):
        kind, default = _config_type(field_types(cls)[field.name],
                                     getattr(params, field.name),
                                     f"{name}{field.name.title().replace('_', '')}")
        fields[field.name] = (kind, pydantic.Field(default=default,
                                                   description=docs.get(field.name)
                                                   or field.metadata.get("doc")))
    return pydantic.create_model(name, __base__=dg.Config, __doc__=cls.__doc__,
                                 __module__=__name__, **fields)
