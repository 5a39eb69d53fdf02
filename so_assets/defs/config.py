"""Launchpad configs and resources made from the core's parameter dataclasses, so a parameter's
name, default and help are written once (in the step) and nowhere here."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, TypeVar

import dagster as dg
import pydantic

T = TypeVar("T")


def _fields(params: type) -> dict[str, Any]:
    hints = typing.get_type_hints(params)
    return {f.name: (hints[f.name], pydantic.Field(default=f.default,
                                                  description=f.metadata.get("doc")))
            for f in dataclasses.fields(params)}


def config_class(params: type, name: str) -> type[dg.Config]:
    """A ``dg.Config`` with the fields, defaults and help of the dataclass ``params``."""
    return pydantic.create_model(name, __base__=dg.Config, __doc__=params.__doc__,
                                 __module__=__name__, **_fields(params))


def resource_class(params: type, base: type[dg.ConfigurableResource], name: str
                   ) -> type[dg.ConfigurableResource]:
    """``base`` (its methods) with the fields of the dataclass ``params``."""
    return pydantic.create_model(name, __base__=base, __doc__=base.__doc__,
                                 __module__=base.__module__, **_fields(params))


def params_of(config: pydantic.BaseModel, params: type[T]) -> T:
    """The step parameters a launchpad config holds."""
    return params(**config.model_dump())
