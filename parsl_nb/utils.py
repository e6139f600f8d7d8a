"""Parsl's ``parsl.utils`` helpers for checkpoints: find the checkpoints of earlier runs."""

from __future__ import annotations

import os

from .dataflow.checkpoint import CHECKPOINT_DIR, CHECKPOINT_FILE

__all__ = ["get_all_checkpoints", "get_last_checkpoint"]


def _run_dirs(rundir: str) -> list[str]:
    if not os.path.isdir(rundir):
        return []
    names = [n for n in os.listdir(rundir) if os.path.isdir(os.path.join(rundir, n))]
    names.sort(key=lambda n: (0, int(n), "") if n.isdigit() else (1, 0, n))
    return names


def get_all_checkpoints(rundir: str = "runinfo") -> list[str]:
    """The checkpoint directories of every run under ``rundir``, oldest first.

    Parameters
    ----------
    rundir : str
        The folder of numbered run directories (``Config.run_dir``).

    Returns
    -------
    list of str
        Absolute paths of ``<rundir>/NNN/checkpoint`` folders that hold a
        checkpoint; empty if there are none.

    Examples
    --------
    >>> from parsl_nb.utils import get_all_checkpoints
    >>> config = Config(checkpoint_mode="task_exit",                 # doctest: +SKIP
    ...                 checkpoint_files=get_all_checkpoints())
    """
    out = []
    for name in _run_dirs(rundir):
        path = os.path.abspath(os.path.join(rundir, name, CHECKPOINT_DIR))
        if os.path.isfile(os.path.join(path, CHECKPOINT_FILE)):
            out.append(path)
    return out


def get_last_checkpoint(rundir: str = "runinfo") -> list[str]:
    """The checkpoint directory of the latest run that wrote one, as a list of zero or one path.

    Unlike Parsl, which looks only at the very last run directory, a last
    run that wrote no checkpoint (for example one that only read the
    notebook) is skipped.

    Parameters
    ----------
    rundir : str
        The folder of numbered run directories (``Config.run_dir``).

    Returns
    -------
    list of str
        ``[path]`` or ``[]``; pass it as ``Config(checkpoint_files=...)``.

    Examples
    --------
    >>> from parsl_nb.utils import get_last_checkpoint
    >>> config = Config(checkpoint_mode="task_exit",                 # doctest: +SKIP
    ...                 checkpoint_files=get_last_checkpoint())
    """
    found = get_all_checkpoints(rundir)
    return found[-1:]
