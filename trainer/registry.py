"""The trainer's implementations, bound by name to their declarations (``shared/registry.py``).

    @implements("combiner", "pmtrec")
    class PMTRec(GradientCombiner):
        def __init__(self, alpha: float, tau: float): ...

``implements`` refuses a name nobody declared and a builder whose hyper-parameters are not
exactly the declared ones, so a renamed parameter fails at import instead of silently taking
its default. The builder is a class's ``from_dataset`` when it has one (encoders, tasks),
else the class itself or the function (combiners, datasets, rankers); the arguments the
trainer supplies itself (``CONTEXT``) are not hyper-parameters. A combiner's constructor
takes the declared defaults for parameters left out and checks every value against the
declaration.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

from shared import components as _components  # noqa: F401  (declares the product's own)
from shared.registry import Component, problems, registry

# What the trainer passes a builder beside the declared hyper-parameters, per kind.
CONTEXT: dict[str, frozenset[str]] = {
    "combiner": frozenset({"num_tasks", "generator"}),
    "encoder": frozenset({"dataset", "dim", "generator"}),
    "task": frozenset({"dataset", "name"}),
    "dataset": frozenset({"data_dir", "allow_download", "options"}),
    "ranker": frozenset({"schema", "config"}),
}

_BOUND: dict[str, dict[str, Any]] = {kind: {} for kind in CONTEXT}

T = TypeVar("T")


def builder(target: Any) -> Any:
    """The callable that builds a component from its hyper-parameters."""
    return getattr(target, "from_dataset", target) if inspect.isclass(target) else target


def _parameter_names(target: Any) -> list[str]:
    call = builder(target)
    signature = inspect.signature(call.__init__ if inspect.isclass(call) else call)
    return [
        name
        for name, p in signature.parameters.items()
        if name not in ("self", "cls") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


def _checked_init(cls: type, component: Component) -> None:
    """Make ``cls(...)`` fill in declared defaults and refuse values the declaration does."""
    init = cls.__init__
    signature = inspect.signature(init)

    @functools.wraps(init)
    def checked(self, *args: Any, **kwargs: Any) -> None:
        given = signature.bind_partial(self, *args, **kwargs).arguments
        given.pop("self", None)
        values = {**component.defaults(), **given}
        refused = problems(values, component.params)
        if refused:
            raise ValueError("; ".join(refused))
        init(self, **values)

    cls.__init__ = checked


def implements(kind: str, name: str):
    """Bind the decorated class or function to the declared ``kind`` component ``name``."""
    component = registry(kind).get(name)  # ValueError for an undeclared name

    def bind(target: T) -> T:
        accepted = [n for n in _parameter_names(target) if n not in CONTEXT[kind]]
        declared = component.param_names()
        if kind != "dataset" and sorted(accepted) != sorted(declared):
            raise ValueError(
                f"{getattr(target, '__name__', target)} implements {kind} '{name}' declared "
                f"with parameters ({', '.join(declared)}) but takes ({', '.join(accepted)})"
            )
        if name in _BOUND[kind] and _BOUND[kind][name] is not target:
            raise ValueError(f"{kind} '{name}' implemented twice")
        if inspect.isclass(target):
            target.name = name
            target.component = component
            if kind == "combiner" and component.params:
                _checked_init(target, component)
        _BOUND[kind][name] = target
        return target

    return bind


def implementation(kind: str, name: str) -> Any:
    """The implementation bound to ``name``; a plug-in's module is imported on first use."""
    component = registry(kind).get(name)
    if name not in _BOUND[kind] and component.implementation:
        importlib.import_module(component.implementation)
    try:
        return _BOUND[kind][name]
    except KeyError:
        raise ValueError(f"{kind} '{name}' is declared but not implemented") from None


class Implementations(Mapping[str, Any]):
    """Name -> implementation of every declared component of a kind (a live view)."""

    def __init__(self, kind: str):
        self.kind = kind

    def __getitem__(self, name: str) -> Any:
        if name not in registry(self.kind):
            raise KeyError(name)
        return implementation(self.kind, name)

    def __iter__(self) -> Iterator[str]:
        return iter(registry(self.kind))

    def __len__(self) -> int:
        return len(registry(self.kind))

    def __contains__(self, name: object) -> bool:
        return name in registry(self.kind)

    def __repr__(self) -> str:
        return f"Implementations({self.kind}: {', '.join(self)})"
