"""Named configurations for ``%parsl_load``: ``threads`` and ``local`` (engines)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from ..config import Config
from ..errors import ConfigError

__all__ = ["PRESETS", "EnginesUnavailable", "local", "resolve", "threads"]


class EnginesUnavailable(ConfigError):
    """The ``local`` preset needs the engine executor, which could not be imported."""


def _workers() -> int:
    return max(2, os.cpu_count() or 2)


def threads(run_dir: str = "runinfo") -> Config:
    """A thread pool in the notebook's process, one thread per core (at least 2).

    Examples
    --------
    >>> from parsl_nb.jupyter.presets import threads
    >>> threads().executors[0].label
    'threads'
    """
    from ..executors.threads import ThreadPoolExecutor

    return Config(executors=[ThreadPoolExecutor(label="threads", max_threads=_workers())], run_dir=run_dir)


def local(run_dir: str = "runinfo") -> Config:
    """Local ipyparallel engines (one per core) under the label ``engines``.

    Raises
    ------
    EnginesUnavailable
        If ``parsl_nb.executors.engines`` cannot be imported here.
    """
    try:
        from ..executors import engines
    except ImportError as e:
        raise EnginesUnavailable(
            f"the 'local' preset needs parsl_nb.executors.engines (the ipyparallel engine executor), "
            f"which cannot be imported here ({type(e).__name__}: {e}); check that ipyparallel is "
            "installed, or use '%parsl_load threads'"
        ) from e
    executor = engines.EngineExecutor(label="engines", engines_per_node=_workers())
    return Config(executors=[executor], run_dir=run_dir)


PRESETS: Mapping[str, Callable[[], Config]] = {"threads": threads, "local": local}


def resolve(spec: Any, namespace: Mapping[str, Any] | None = None) -> Config:
    """Turn a preset name, a Python expression, a Config or an executor into a Config.

    Parameters
    ----------
    spec : str, Config or Executor
        ``'threads'``, ``'local'``, an expression evaluated in ``namespace``
        (for example ``'Config(executors=[...])'`` or ``'my_config'``), or an object.
    namespace : mapping, optional
        Where expressions are evaluated (the notebook's namespace).

    Returns
    -------
    Config
    """
    from ..executors.base import Executor

    if isinstance(spec, str):
        text = spec.strip() or "threads"
        if text in PRESETS:
            return PRESETS[text]()
        spec = _evaluate(text, namespace)
    if isinstance(spec, Config):
        return spec
    if isinstance(spec, Executor):
        return Config(executors=[spec])
    raise ConfigError(
        f"%parsl_load needs a preset ({', '.join(PRESETS)}) or an expression giving a Config "
        f"(got {type(spec).__name__}: {spec!r})"
    )


def _evaluate(text: str, namespace: Mapping[str, Any] | None) -> Any:
    import parsl_nb

    scope: dict[str, Any] = {"Config": Config, "parsl_nb": parsl_nb}
    scope.update(namespace or {})
    try:
        return eval(text, scope)
    except Exception as e:
        raise ConfigError(
            f"%parsl_load could not evaluate {text!r} ({type(e).__name__}: {e}); use a preset "
            f"({', '.join(PRESETS)}) or an expression giving a parsl_nb.Config"
        ) from e
