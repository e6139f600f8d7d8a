"""Launchers: wrap the engine start command so a block starts the right number of copies.

``SimpleLauncher`` and ``SingleNodeLauncher`` run on the block's own node; the
multi-node launchers (srun, mpiexec, mpirun, aprun, jsrun) write the engine
command to a small script next to the block's, then start
``tasks_per_node * nodes_per_block`` copies of it with the site's parallel
launcher; every copy sees ``PARSL_NB_TASKS_PER_NODE``.
"""

from __future__ import annotations

import abc

__all__ = [
    "AprunLauncher", "JsrunLauncher", "Launcher", "MpiExecLauncher", "MpiRunLauncher",
    "SimpleLauncher", "SingleNodeLauncher", "SrunLauncher", "WrappedLauncher",
]


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


def _with_command_file(command: str, tasks_per_node: int, start: str) -> str:
    """Shell text: write ``command`` to a file, run ``start`` (which names it as $CMD_FILE), wait."""
    return (
        f"export PARSL_NB_TASKS_PER_NODE={int(tasks_per_node)}\n"
        'CMD_FILE="${PARSL_NB_SCRIPT_DIR:-$PWD}/cmd_${PARSL_NB_JOB_NAME:-block}_$$.sh"\n'
        "cat > \"$CMD_FILE\" <<'PARSL_NB_CMD_EOF'\n"
        f"{command}\n"
        "PARSL_NB_CMD_EOF\n"
        'chmod u+x "$CMD_FILE"\n'
        f"{start}\n"
    )


class SrunLauncher(Launcher):
    """Start the copies with ``srun`` across the Slurm allocation (Parsl's name and options).

    Parameters
    ----------
    overrides : str
        Extra ``srun`` arguments, e.g. ``"--cpu-bind=none"``.

    Examples
    --------
    >>> "srun --ntasks=4" in SrunLauncher()("ipengine", 2, 2)
    True
    """

    def __init__(self, overrides: str = "", debug: bool = False) -> None:
        self.overrides = overrides
        self.debug = debug

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int) -> str:
        """Return the shell text: ``srun`` of ``tasks_per_node * nodes_per_block`` copies."""
        total = tasks_per_node * nodes_per_block
        label = " --label" if self.debug else ""
        start = (f"srun --ntasks={total} --ntasks-per-node={tasks_per_node} --nodes={nodes_per_block}"
                 f"{label} {self.overrides} bash \"$CMD_FILE\"").replace("  ", " ")
        return _with_command_file(command, tasks_per_node, start)


class MpiExecLauncher(Launcher):
    """Start the copies with ``mpiexec`` (hosts from ``$PBS_NODEFILE`` or similar when present).

    Parameters
    ----------
    bind_cmd : str
        The option to bind processes, e.g. ``"--bind-to"``; left out when empty.
    overrides : str
        Extra ``mpiexec`` arguments.

    Examples
    --------
    >>> "mpiexec -n 4 -ppn 2" in MpiExecLauncher()("ipengine", 2, 2)
    True
    """

    def __init__(self, bind_cmd: str = "", overrides: str = "") -> None:
        self.bind_cmd = bind_cmd
        self.overrides = overrides

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int) -> str:
        """Return the shell text: ``mpiexec -n <total> -ppn <tasks_per_node>``."""
        total = tasks_per_node * nodes_per_block
        start = (f"mpiexec -n {total} -ppn {tasks_per_node} {self.bind_cmd} {self.overrides}"
                 ' bash "$CMD_FILE"').replace("   ", " ").replace("  ", " ")
        return _with_command_file(command, tasks_per_node, start)


class MpiRunLauncher(Launcher):
    """Start the copies with Open MPI's ``mpirun -np <total>``.

    Parameters
    ----------
    bash_location : str
        The shell each copy runs under.
    overrides : str
        Extra ``mpirun`` arguments.

    Examples
    --------
    >>> "mpirun -np 4" in MpiRunLauncher()("ipengine", 2, 2)
    True
    """

    def __init__(self, bash_location: str = "/bin/bash", overrides: str = "") -> None:
        self.bash_location = bash_location
        self.overrides = overrides

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int) -> str:
        """Return the shell text: ``mpirun -np <total>``."""
        total = tasks_per_node * nodes_per_block
        start = f'mpirun -np {total} {self.overrides} {self.bash_location} "$CMD_FILE"'.replace("  ", " ")
        return _with_command_file(command, tasks_per_node, start)


class AprunLauncher(Launcher):
    """Start the copies with Cray's ``aprun -n <total> -N <tasks_per_node>``.

    Parameters
    ----------
    overrides : str
        Extra ``aprun`` arguments.

    Examples
    --------
    >>> "aprun -n 4 -N 2" in AprunLauncher()("ipengine", 2, 2)
    True
    """

    def __init__(self, overrides: str = "") -> None:
        self.overrides = overrides

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int) -> str:
        """Return the shell text: ``aprun`` of all copies."""
        total = tasks_per_node * nodes_per_block
        start = f'aprun -n {total} -N {tasks_per_node} {self.overrides} /bin/bash "$CMD_FILE"'.replace("  ", " ")
        return _with_command_file(command, tasks_per_node, start)


class JsrunLauncher(Launcher):
    """Start the copies with IBM's ``jsrun`` (Summit-style LSF machines): one resource set per copy.

    Parameters
    ----------
    overrides : str
        Extra ``jsrun`` arguments, e.g. ``"-g 1"`` for a GPU per copy.

    Examples
    --------
    >>> "jsrun -n 4 -r 2 -a 1" in JsrunLauncher()("ipengine", 2, 2)
    True
    """

    def __init__(self, overrides: str = "") -> None:
        self.overrides = overrides

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int) -> str:
        """Return the shell text: ``jsrun -n <total> -r <per node> -a 1``."""
        total = tasks_per_node * nodes_per_block
        start = f'jsrun -n {total} -r {tasks_per_node} -a 1 {self.overrides} /bin/bash "$CMD_FILE"'.replace("  ", " ")
        return _with_command_file(command, tasks_per_node, start)


class WrappedLauncher(Launcher):
    """Run the command behind a prefix such as a container or profiler (Parsl's name).

    Parameters
    ----------
    prepend : str
        Text put before the command, e.g. ``"apptainer exec image.sif"``.
    debug : bool
        Accepted for Parsl compatibility.

    Examples
    --------
    >>> WrappedLauncher("time")("ipengine", 1, 1)
    'time ipengine'
    """

    def __init__(self, prepend: str, debug: bool = True) -> None:
        self.prepend = prepend
        self.debug = debug

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int) -> str:
        """Return the prefixed command; several engines per node start as with ``SingleNodeLauncher``."""
        wrapped = f"{self.prepend} {command}" if self.prepend else command
        if tasks_per_node > 1:
            return SingleNodeLauncher()(wrapped, tasks_per_node, nodes_per_block)
        return wrapped
