"""Parsl's ``parsl.dataflow.memoization``: register memo keys for your own types.

``BasicMemoizer`` carries Parsl's newer way of configuring app caching and
checkpoints, ``Config(memoizer=BasicMemoizer(checkpoint_mode='task_exit'))``;
the Config turns it into its own ``app_cache`` and ``checkpoint_*`` options.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .memo import Memoizer, id_for_memo

__all__ = ["BasicMemoizer", "Memoizer", "id_for_memo"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BasicMemoizer:
    """App caching and checkpoint options, in Parsl's ``memoizer=`` form.

    Parameters
    ----------
    checkpoint_files : sequence of str, optional
        Checkpoint directories to load results from (see ``get_all_checkpoints``).
    checkpoint_period : str, optional
        ``'HH:MM:SS'`` between checkpoints with ``checkpoint_mode='periodic'``.
    checkpoint_mode : str, optional
        ``'task_exit'``, ``'periodic'``, ``'dfk_exit'`` or ``'manual'``.
    memoize : bool
        Allow apps declared with ``cache=True`` to be memoized (Config's
        ``app_cache``).

    Examples
    --------
    >>> from parsl_nb import Config
    >>> config = Config(memoizer=BasicMemoizer(checkpoint_mode="task_exit"))
    >>> config.checkpoint_mode
    'task_exit'
    """

    checkpoint_files: Sequence[str] | None = None
    checkpoint_period: str | None = None
    checkpoint_mode: str | None = None
    memoize: bool = True
