"""Launchers: wrap the engine start command so a block starts the right number of copies."""

from __future__ import annotations

import abc

__all__ = ["Launcher", "SimpleLauncher", "SingleNodeLauncher"]


class Launcher(abc.ABC):
    """Turns one engine command into the command a block's job runs (Parsl's call shape)."""

    @abc.abstractmethod
    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int) -> str:
        """Return the shell text the job runs."""


class SimpleLauncher(Launcher):
    """Run the command once, as is (it starts its own workers, or one is enough).

    Examples
    --------
    >>> SimpleLauncher()("echo hi", 4, 1)
    'echo hi'
    """

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int) -> str:
        """Return ``command`` unchanged."""
        return command


class SingleNodeLauncher(Launcher):
    """Start ``tasks_per_node`` copies of the command on this node and wait for them.

    Each copy sees ``PARSL_NB_WORKER_RANK`` (0-based) and
    ``PARSL_NB_TASKS_PER_NODE``. The script exits with the last non-zero exit
    code of any copy, so a failed block is visible to the provider.

    Examples
    --------
    >>> "PARSL_NB_WORKER_RANK" in SingleNodeLauncher()("ipengine", 2, 1)
    True
    """

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int) -> str:
        """Return a bash script that starts the copies and waits for all of them."""
        return (
            f"export PARSL_NB_TASKS_PER_NODE={int(tasks_per_node)}\n"
            "pids=\"\"\n"
            f"for rank in $(seq 0 $(({int(tasks_per_node)} - 1))); do\n"
            "  export PARSL_NB_WORKER_RANK=$rank\n"
            f"  {command} &\n"
            "  pids=\"$pids $!\"\n"
            "done\n"
            "rc=0\n"
            "for pid in $pids; do wait $pid || rc=$?; done\n"
            "exit $rc\n"
        )
