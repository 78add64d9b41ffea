"""One registry for every pluggable kind: combiners, encoders, tasks, datasets and rankers.

A component declares its name and its hyper-parameters once, here, without torch
(``shared/components.py`` holds the product's own). Everything else is derived from the
declarations: the trainer's configuration fields and their checks, the ``trainer.fit`` flags,
the fields ``trainer.search`` grids over, the experiments' tuning values, the run keys, and
the schema ``POST /retrain`` is validated with. The trainer binds an implementation to a
declaration with ``trainer.registry.implements``.

Plug-ins: ``PMTREC_PLUGINS=package.module,other.module`` names modules imported once the
product's own components are declared (by the service and by the trainer alike); each
declares its components with ``declare`` and may name, with ``implementation=``, the module
the trainer imports to find the implementation. See docs/extending.md.
"""

from __future__ import annotations

import importlib
import math
import os
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

PLUGINS_VARIABLE = "PMTREC_PLUGINS"


class HyperparameterError(ValueError):
    """A requested hyper-parameter or load option is unknown or out of range."""


_KIND_NAMES = {
    int: "an integer",
    str: "a string",
    bool: "true or false",
    float: "a number",
    Path: "a file path (a string)",
}


def _number(value: float | None) -> str:
    """A bound as written: 4096, not 4.096e+03."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True)
class Param:
    """One hyper-parameter: its name, JSON type, default, valid values and help.

    Valid values are a range (``low`` / ``high``, each inclusive or not), a set of
    ``choices`` (any collection, a registry included), or a ``pattern`` described by
    ``rule``. ``tuning`` lists the values the experiments' equal-budget grid tries, most
    likely first. ``type`` ``Path`` is a file path, a string in JSON.
    """

    name: str
    type: type
    default: Any
    help: str = ""
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True
    choices: Collection[Any] | None = None
    pattern: str | None = None
    rule: str | None = None
    tuning: tuple[Any, ...] = ()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def describe(self) -> str:
        """The rule in words, for messages: ``> 0``, ``in [1, 4096]``, ``one of a, b``."""
        if self.rule is not None:
            return self.rule
        if self.choices is not None:
            return f"one of {', '.join(map(str, self.choices))}"
        low, high = _number(self.low), _number(self.high)
        if self.low is not None and self.high is not None:
            opening = "[" if self.low_inclusive else "("
            closing = "]" if self.high_inclusive else ")"
            return f"in {opening}{low}, {high}{closing}"
        if self.low is not None:
            return f"{'>=' if self.low_inclusive else '>'} {low}"
        if self.high is not None:
            return f"{'<=' if self.high_inclusive else '<'} {high}"
        return _KIND_NAMES[self.type]

    def allows(self, value: Any) -> bool:
        """Whether a value of the right type satisfies the rule."""
        if self.choices is not None and value not in self.choices:
            return False
        if self.pattern is not None and re.fullmatch(self.pattern, str(value)) is None:
            return False
        if self.low is not None and not (
            value >= self.low if self.low_inclusive else value > self.low
        ):
            return False
        return self.high is None or (
            value <= self.high if self.high_inclusive else value < self.high
        )

    def has_type(self, value: Any) -> bool:
        """Whether ``value`` is of the parameter's type (an int passes for a float)."""
        if self.type is bool:
            return isinstance(value, bool)
        if self.type in (str, Path):
            return isinstance(value, (str, Path))
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            # numpy scalars pass through their Python equivalents
            return hasattr(value, "item") and self.has_type(value.item())
        if self.type is int:
            return float(value).is_integer()
        return math.isfinite(value)

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is refused, or None."""
        if not self.has_type(value):
            return f"{self.name} must be {_KIND_NAMES[self.type]}"
        if not self.allows(value):
            if isinstance(self.choices, Registry):
                return (
                    f"unknown {self.choices.label} '{value}'; valid names: "
                    f"{', '.join(self.choices)}"
                )
            shown = value if isinstance(value, (int, float)) else str(value)
            return f"{self.name} must be {self.describe()}, got {shown!r}"
        return None

    def coerce(self, value: Any) -> Any:
        """A JSON value as the parameter's type (2 for a float is 2.0, 2.0 for an int is 2)."""
        if self.type is int and self.has_type(value):
            return int(value)
        if self.type is float and self.has_type(value):
            return float(value)
        if self.type is Path and isinstance(value, Path):
            return str(value)
        return value

    def parse(self, text: str) -> Any:
        """A command-line value as the parameter's type."""
        if self.type is bool:
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError(f"{self.name} must be true or false, got '{text}'")
            return text.lower() in ("true", "1")
        try:
            return self.type(text)
        except ValueError:
            raise ValueError(
                f"{self.name} must be {_KIND_NAMES[self.type]}, got '{text}'"
            ) from None


@dataclass(frozen=True)
class Component:
    """A pluggable piece: its kind, name, hyper-parameters, help and metadata.

    ``extra`` holds what a kind needs to know about a component without its implementation
    (a dataset's auxiliary tasks and rating scale, whether an encoder is row-local, ...).
    ``implementation`` names the module defining a plug-in's implementation (None for the
    product's own, which the trainer's packages import).
    """

    kind: str
    name: str
    params: tuple[Param, ...] = ()
    help: str = ""
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    implementation: str | None = None

    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}


class Registry(Collection[str]):
    """The declared components of one kind, in declaration order; iterates over names."""

    def __init__(self, kind: str, label: str):
        self.kind = kind
        self.label = label  # how messages name one: "method" for a combiner
        self._components: dict[str, Component] = {}

    def declare(
        self,
        name: str,
        params: Iterable[Param] = (),
        help: str = "",
        implementation: str | None = None,
        **extra: Any,
    ) -> Component:
        component = Component(
            self.kind, name, tuple(params), help, MappingProxyType(dict(extra)), implementation
        )
        if name in self._components:
            raise ValueError(f"{self.label} '{name}' declared twice")
        self._components[name] = component
        return component

    def remove(self, name: str) -> None:
        """Forget a declaration (a plug-in's, in tests)."""
        self._components.pop(name, None)

    def get(self, name: str) -> Component:
        try:
            return self._components[name]
        except (KeyError, TypeError):
            raise ValueError(
                f"unknown {self.label} '{name}'; valid names: {', '.join(self)}"
            ) from None

    def components(self) -> tuple[Component, ...]:
        return tuple(self._components.values())

    def names(self) -> tuple[str, ...]:
        return tuple(self._components)

    def __contains__(self, name: object) -> bool:
        return name in self._components

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(self._components))

    def __len__(self) -> int:
        return len(self._components)

    def __repr__(self) -> str:
        return f"Registry({self.kind}: {', '.join(self)})"


COMBINERS = Registry("combiner", "method")
ENCODERS = Registry("encoder", "encoder")
TASKS = Registry("task", "task")
DATASETS = Registry("dataset", "dataset")
RANKERS = Registry("ranker", "ranker")
REGISTRIES: dict[str, Registry] = {
    registry.kind: registry for registry in (COMBINERS, ENCODERS, TASKS, DATASETS, RANKERS)
}


def registry(kind: str) -> Registry:
    try:
        return REGISTRIES[kind]
    except KeyError:
        raise ValueError(f"unknown kind '{kind}'; valid kinds: {', '.join(REGISTRIES)}") from None


def declare(
    kind: str,
    name: str,
    params: Iterable[Param] = (),
    help: str = "",
    implementation: str | None = None,
    **extra: Any,
) -> Component:
    """Declare a component of ``kind`` (combiner, encoder, task, dataset or ranker)."""
    return registry(kind).declare(name, params, help, implementation, **extra)


def flatten(components: Iterable[Component]) -> dict[str, Param]:
    """The parameters of several components by name; one name may be declared by several
    components (LightGCN's and NGCF's ``layers``) only with the same declaration."""
    params: dict[str, Param] = {}
    for component in components:
        for param in component.params:
            known = params.setdefault(param.name, param)
            if known != param:
                raise ValueError(
                    f"parameter '{param.name}' of {component.kind} '{component.name}' is "
                    "declared differently by another component"
                )
    return params


def validate(values: Mapping[str, Any], allowed: Mapping[str, Param], what: str) -> dict[str, Any]:
    """``values`` typed by their parameters; HyperparameterError lists every problem (an
    unknown name with the valid ones)."""
    problems, clean = [], {}
    for name, value in values.items():
        param = allowed.get(name)
        if param is None:
            problems.append(f"unknown {what} '{name}'; valid names: {', '.join(allowed)}")
            continue
        problem = param.problem(value)
        if problem:
            problems.append(problem)
        clean[name] = param.coerce(value)
    if problems:
        raise HyperparameterError("; ".join(problems))
    return clean


def problems(values: Mapping[str, Any], params: Iterable[Param]) -> list[str]:
    """Why each of ``values`` that ``params`` declare is refused (no coercion)."""
    return [
        problem
        for param in params
        if param.name in values
        for problem in (param.problem(values[param.name]),)
        if problem
    ]


_LOADED_PLUGINS: set[str] = set()


def load_plugins(names: Iterable[str] | None = None) -> list[str]:
    """Import the plug-in modules (default: ``$PMTREC_PLUGINS``, comma-separated) that are not
    imported yet; their imports declare their components."""
    if names is None:
        names = os.environ.get(PLUGINS_VARIABLE, "").split(",")
    loaded = []
    for name in (n.strip() for n in names):
        if name and name not in _LOADED_PLUGINS:
            _LOADED_PLUGINS.add(name)
            importlib.import_module(name)
            loaded.append(name)
    return loaded
