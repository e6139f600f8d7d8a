"""How the kernel finds futures in a call's arguments, and replaces them.

``DEEP_DEPENDENCY_RESOLVER`` (the default) looks inside lists, tuples, sets,
frozensets and dict keys and values, at any depth.
``SHALLOW_DEPENDENCY_RESOLVER`` is Parsl's default: only futures passed
directly as arguments (and items of ``inputs=``) count.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

__all__ = ["DEEP_DEPENDENCY_RESOLVER", "SHALLOW_DEPENDENCY_RESOLVER", "DependencyResolver"]


@dataclass(frozen=True, slots=True)
class DependencyResolver:
    """A pair of functions (Parsl's shape).

    ``traverse_to_gather(obj)`` lists the futures in one argument;
    ``traverse_to_unwrap(obj)`` returns the argument with each future
    replaced by its result.
    """

    traverse_to_gather: Callable[[Any], list[Future[Any]]]
    traverse_to_unwrap: Callable[[Any], Any]


_CONTAINERS = (list, tuple, set, frozenset, dict)


def _deep_gather(obj: Any, out: list[Future[Any]] | None = None) -> list[Future[Any]]:
    if out is None:
        out = []
    if isinstance(obj, Future):
        out.append(obj)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _deep_gather(k, out)
            _deep_gather(v, out)
    elif isinstance(obj, _CONTAINERS):
        for item in obj:
            _deep_gather(item, out)
    return out


def _deep_unwrap(obj: Any) -> Any:
    # A container without futures is returned as is (not a copy): thread apps
    # may mutate the caller's objects, as with Parsl.
    if isinstance(obj, Future):
        return obj.result()
    if isinstance(obj, dict):
        return _unwrap_mapping(obj)
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = [_deep_unwrap(x) for x in obj]
        if all(new is old for new, old in zip(items, obj, strict=True)):
            return obj
        if isinstance(obj, tuple) and hasattr(obj, "_fields"):
            return type(obj)(*items)
        return _rebuild(obj, items)
    return obj


def _rebuild(obj: Any, items: list[Any]) -> Any:
    try:
        return type(obj)(items)
    except TypeError:
        return type(obj).__mro__[1](items) if len(type(obj).__mro__) > 1 else items


def _unwrap_mapping(obj: dict[Any, Any]) -> Any:
    pairs = [(k, v, _deep_unwrap(k), _deep_unwrap(v)) for k, v in obj.items()]
    if all(nk is k and nv is v for k, v, nk, nv in pairs):
        return obj
    new = {nk: nv for _, _, nk, nv in pairs}
    try:
        return type(obj)(new)
    except TypeError:
        return new


def _shallow_gather(obj: Any) -> list[Future[Any]]:
    return [obj] if isinstance(obj, Future) else []


def _shallow_unwrap(obj: Any) -> Any:
    return obj.result() if isinstance(obj, Future) else obj


DEEP_DEPENDENCY_RESOLVER = DependencyResolver(_deep_gather, _deep_unwrap)
SHALLOW_DEPENDENCY_RESOLVER = DependencyResolver(_shallow_gather, _shallow_unwrap)
