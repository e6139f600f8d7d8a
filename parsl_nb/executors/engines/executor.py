"""``EngineExecutor``: tasks run on ipyparallel engines started in blocks by a provider."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from typing import Any

from ...errors import ConfigError, ExecutorError, InvalidResourceSpecification
from ...launchers import Launcher
from ...providers.base import ExecutionProvider
from ...providers.local import LocalProvider
from ..base import Executor, ExecutorContext, TaskSpec
from .blocks import Block, BlockManager
from .controller import Controller
from .dispatch import Dispatcher
from .status import block_rows, engine_rows

__all__ = ["EngineExecutor"]

logger = logging.getLogger(__name__)


class EngineExecutor(Executor):
    """Run tasks on a pilot cluster of ipyparallel engines, started in blocks.

    Each kernel gets its own controller (private profile directory, cluster id
    and key under the run directory). Ready tasks go straight to the engine
    with the fewest outstanding tasks, in batches when the queue is deep.

    Parameters
    ----------
    label : str
        Name used in ``executors=[...]`` of apps.
    provider : ExecutionProvider, optional
        Where blocks run; default ``LocalProvider()``.
    engines_per_node : int
        Engines each node of a block starts (default 2).
    nodes_per_block, init_blocks, min_blocks, max_blocks, parallelism : optional
        Override the provider's values when given.
    address : str, optional
        Interface the controller and the task channel bind to; default
        loopback. Name a reachable interface when engines run on other nodes.
    launcher : Launcher, optional
        Overrides the provider's launcher.
    max_idletime : float, optional
        Seconds a block may sit idle before the 'simple' strategy retires it
        (default: the Config's, 120). A block still queued in the scheduler
        is idle whenever no task waits for an engine, and goes first.
    strategy : str, optional
        ``'simple'`` (scale with demand) or ``'none'`` (default: the Config's).
    strategy_period : float, optional
        Seconds between strategy rounds (block status polls); default: the
        Config's if set, else 0.5.
    heartbeat_ms : int
        Controller heartbeat period; short makes startup fast.
    lost_after : float
        Seconds of silence after which an engine counts as lost.
    prefetch : int
        Most tasks queued on one engine at a time.
    kernel_timeout : float
        Engines exit on their own after this long without hearing from the kernel.
    max_block_failures : int
        Blocks failing in a row before queued tasks fail with ExecutorError.

    Examples
    --------
    >>> import parsl_nb as parsl
    >>> from parsl_nb.executors import EngineExecutor
    >>> config = parsl.Config(executors=[EngineExecutor(engines_per_node=2)])
    """

    def __init__(self, label: str = "engines", provider: ExecutionProvider | None = None,
                 engines_per_node: int = 2, nodes_per_block: int | None = None, address: str | None = None,
                 launcher: Launcher | None = None, init_blocks: int | None = None,
                 min_blocks: int | None = None, max_blocks: int | None = None, parallelism: float | None = None,
                 max_idletime: float | None = None, strategy: str | None = None,
                 strategy_period: float | None = None,
                 heartbeat_ms: int = 500, lost_after: float = 5.0, prefetch: int = 128,
                 kernel_timeout: float = 15.0, max_block_failures: int = 3) -> None:
        if not isinstance(engines_per_node, int) or engines_per_node < 1:
            raise ConfigError(f"engines_per_node must be an int >= 1 (got engines_per_node={engines_per_node!r})")
        if strategy not in ("simple", "htex_auto_scale", "none", None):
            raise ConfigError(f"strategy must be 'simple' or 'none' (got strategy={strategy!r})")
        _check_options(label, heartbeat_ms=heartbeat_ms, lost_after=lost_after, prefetch=prefetch,
                       kernel_timeout=kernel_timeout, max_block_failures=max_block_failures,
                       strategy_period=strategy_period, max_idletime=max_idletime)
        self.label = label
        self.provider = provider if provider is not None else LocalProvider()
        _override(self.provider, nodes_per_block=nodes_per_block, init_blocks=init_blocks,
                  min_blocks=min_blocks, max_blocks=max_blocks, parallelism=parallelism, launcher=launcher)
        if not (0 <= self.provider.min_blocks <= self.provider.max_blocks):
            raise ConfigError(f"need 0 <= min_blocks <= max_blocks (got min_blocks={self.provider.min_blocks}, "
                              f"max_blocks={self.provider.max_blocks})")
        self.engines_per_node = engines_per_node
        self.address = address
        self._own_scaling = (strategy, strategy_period, max_idletime)
        self.strategy, self.strategy_period, self.max_idletime = strategy or "simple", strategy_period or 0.5, \
            max_idletime or 120.0
        self.heartbeat_ms, self.lost_after, self.prefetch = heartbeat_ms, lost_after, prefetch
        self.kernel_timeout, self.max_block_failures = kernel_timeout, max_block_failures
        self.controller: Controller | None = None
        self._dispatch: Dispatcher | None = None
        self._blocks: BlockManager | None = None
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._strategy_thread: threading.Thread | None = None
        self._failed: ExecutorError | None = None

    def _resolve_scaling(self, context: ExecutorContext) -> None:
        """The executor's own scaling arguments win; then the Config's; then defaults."""
        strategy, period, idle = self._own_scaling
        chosen = strategy if strategy is not None else context.strategy
        self.strategy = {"htex_auto_scale": "simple", None: "none"}.get(chosen, chosen) or "none"
        self.strategy_period = period if period is not None else context.strategy_period or 0.5
        self.max_idletime = idle if idle is not None else context.max_idletime or 120.0

    # ------------------------------------------------------------ lifecycle
    def start(self, context: ExecutorContext) -> None:
        """Start the controller, the task channel and ``init_blocks`` blocks.

        Called again after :meth:`shutdown` (the same Config loaded again
        after ``parsl_nb.clear()``), it starts a new controller and engines.
        """
        self.run_dir = context.run_dir
        self._stop.clear()
        self._failed = None
        self._resolve_scaling(context)
        ip = self.address or "127.0.0.1"
        self.controller = Controller(context.run_dir, self.label, ip, self.heartbeat_ms)
        self.controller.start()
        self._dispatch = Dispatcher(self.label, self.controller.key, ip, context, self.prefetch, self.lost_after)
        self._dispatch.start()
        self.provider.script_dir = f"{self.controller.root}/blocks"
        self._blocks = BlockManager(self.label, self.provider, self._engine_command,
                                    self.engines_per_node, context.publish,
                                    self.max_block_failures)
        self._blocks.on_end = self._block_ended
        try:
            self.scale_out(self.provider.init_blocks)
        except Exception:
            self.shutdown()
            raise
        self._strategy_thread = threading.Thread(target=self._strategy_loop, daemon=True,
                                                 name=f"parsl_nb-{self.label}-strategy")
        self._strategy_thread.start()

    def _block_ended(self, block: Block) -> None:
        """Its engines may outlive the job (an orphan the scheduler no longer tracks): stop them."""
        if self._dispatch is not None:
            detail = f": {block.detail}" if block.detail else ""
            self._dispatch.retire(block.block_id, f"its block's job {block.job_id} ended ({block.state.value}{detail})")

    def _engine_command(self, block: str) -> str:
        assert self.controller is not None and self._dispatch is not None
        return self.controller.engine_command(self._dispatch.address, block, self.kernel_timeout)

    def shutdown(self) -> None:
        """Stop engines, cancel every block's job and end the controller (about 2 s)."""
        self._stop.set()
        if self._strategy_thread is not None and self._strategy_thread is not threading.current_thread():
            self._strategy_thread.join(timeout=2)
        if self._dispatch is not None:
            self._dispatch.stop()
        with self._lock:
            if self._blocks is not None:
                self._blocks.shutdown()
        if self.controller is not None:
            self.controller.stop()

    # ---------------------------------------------------------------- tasks
    def submit_task(self, task: TaskSpec) -> Future[Any]:
        """Queue one try of a task for the engines."""
        spec = {k: v for k, v in task.resource_specification.items() if k != "priority"}
        if spec:
            raise InvalidResourceSpecification(spec, f"parsl_resource_specification={spec!r}: engines do not "
                                               "reserve resources per task yet; drop the specification or size "
                                               "blocks with engines_per_node", self.label)
        if self._failed is not None:
            raise self._failed
        if self._dispatch is None or self._stop.is_set():
            raise ExecutorError(self.label, "it is not running (not started, or shut down); "
                                "load a new kernel with parsl_nb.load() to run more tasks")
        return self._dispatch.submit(task.tid, task.func, task.args, task.kwargs)

    def cancel_task(self, future: Future[Any]) -> bool:
        """Cancel a queued task, or interrupt it (SIGINT) on its engine if running."""
        return self._dispatch.cancel(future) if self._dispatch is not None else future.cancel()

    @property
    def outstanding(self) -> int:
        """Tasks submitted here and not finished."""
        return self._dispatch.outstanding if self._dispatch is not None else 0

    # -------------------------------------------------------------- scaling
    def scale_out(self, blocks: int = 1) -> list[str]:
        """Start ``blocks`` more blocks (up to ``max_blocks``); return their ids."""
        with self._lock:
            return self._blocks.scale_out(blocks) if self._blocks is not None else []

    def scale_in(self, blocks: int = 1) -> list[str]:
        """Retire up to ``blocks`` idle blocks; return their ids."""
        with self._lock:
            if self._blocks is None or self._dispatch is None:
                return []
            self._poll()
            return self._blocks.scale_in(blocks, 0.0, self._dispatch.drain)

    @property
    def blocks(self) -> list[Block]:
        """Every block started so far (id, job id, state, engines)."""
        with self._lock:
            return list(self._blocks.blocks.values()) if self._blocks is not None else []

    @property
    def engines(self) -> list[str]:
        """Ids of the connected engines."""
        d = self._dispatch
        return [e.engine_id for e in list(d.engines.values())] if d is not None else []

    def _poll(self) -> None:
        assert self._blocks is not None and self._dispatch is not None
        per_block: dict[str, tuple[int, int]] = {}
        for e in list(self._dispatch.engines.values()):
            n, busy = per_block.get(e.block, (0, 0))
            per_block[e.block] = (n + 1, busy + len(e.tasks))
        self._blocks.poll(per_block, self._dispatch.queued)

    def _strategy_loop(self) -> None:
        while not self._stop.wait(self.strategy_period):
            try:
                with self._lock:
                    self._strategy_round()
            except ExecutorError as e:
                self._fail(e)
            except Exception:
                logger.exception("executor %s: strategy round failed", self.label)

    def _strategy_round(self) -> None:
        assert self._blocks is not None and self._dispatch is not None and self.controller is not None
        self.controller.check()
        self._poll()
        blocks, d, p = self._blocks, self._dispatch, self.provider
        if blocks.gave_up:
            if not d.engines:
                raise ExecutorError(self.label, f"{blocks.failures_in_row} blocks failed in a row, so it stopped "
                                    f"starting new ones; last: {blocks.last_failure}. Fix the cause (see the "
                                    f"block's stderr in {p.script_dir}) and load a new kernel")
            return
        if self.strategy == "none":
            blocks.scale_out(max(0, p.min_blocks - len(blocks.active)))
            return
        # queued blocks count as idle once no task waits for an engine (see blocks.py)
        blocks.simple_round(d.outstanding, d.queued, p.parallelism, p.min_blocks, self.max_idletime, d.drain)

    def _fail(self, err: ExecutorError) -> None:
        if self._failed is None:
            logger.error("%s", err)
        self._failed = err
        if self._dispatch is not None:
            self._dispatch.fail_queued(err)

    def status_summary(self) -> dict[str, Any]:
        """Kind, workers, blocks and engines, for status displays (``%parsl_status``, reprs).

        ``blocks`` holds a :class:`~.status.BlockStatus` (block id, job id,
        state, connected engines) per block started; ``engines`` an
        :class:`~.status.EngineStatus` (engine id, block, host, pid, tasks
        held) per connected engine. Both are named tuples.
        """
        d = self._dispatch
        engines = engine_rows(list(d.engines.values())) if d is not None else []
        return {"label": self.label, "kind": "engines", "workers": len(engines),
                "blocks": block_rows(self.blocks, engines), "engines": engines, "outstanding": self.outstanding}

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(label={self.label!r}, engines_per_node={self.engines_per_node}, "
                f"provider={self.provider!r})")


def _override(provider: ExecutionProvider, **values: Any) -> None:
    for name, value in values.items():
        if value is not None:
            setattr(provider, name, value)


def _check_options(label: Any, **numbers: Any) -> None:
    """Refuse a label or tuning number that could only hang or spin the executor."""
    if not isinstance(label, str) or not label.strip():
        raise ConfigError(f"label must be a non-empty string, such as label='engines' (got label={label!r})")
    whole = ("heartbeat_ms", "prefetch", "max_block_failures")
    for name, value in numbers.items():
        if value is None and name in ("strategy_period", "max_idletime"):
            continue
        kind = int if name in whole else (int, float)
        if isinstance(value, bool) or not isinstance(value, kind) or value <= 0:
            what = "a whole number" if name in whole else "a number of seconds"
            raise ConfigError(f"{name} must be {what} > 0 (got {name}={value!r}); leave it out for the default")
