"""Kernel-side dispatch: send ready tasks straight to engines, resolve each result.

One thread owns the ROUTER socket engines connect to. Tasks submitted from any
thread wait in a deque; each round the thread gives every queued task to the
live engine with the fewest outstanding tasks (up to ``prefetch`` each), one
message per engine, so a deep queue travels in batches and a lone task at once.
Engines report starts and results in batches; each future is resolved as its
own result arrives. Engines silent for ``lost_after`` seconds (or whose local
process is gone) are lost: their started tasks fail with :class:`WorkerLost`,
the rest go back to the queue.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from typing import Any

import psutil
import zmq

from ...dataflow.events import ResourceEvent
from ...errors import SerializationError, WorkerLost
from ...futures import LeanFuture
from ..base import ExecutorContext
from .wire import Signer, decode_value, encode_call, encode_function
from .worker import CANCELLED, OK

__all__ = ["Dispatcher", "EngineInfo"]

logger = logging.getLogger(__name__)
HOST = socket.gethostname()


@dataclass(slots=True, eq=False)
class _Task:
    key: int
    tid: int
    func: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    future: Future[Any]
    engine: EngineInfo | None = None
    started: float = 0.0


@dataclass(slots=True, eq=False)
class EngineInfo:
    """One connected engine as the dispatcher sees it."""

    ident: bytes
    engine_id: str
    block: str
    pid: int
    host: str
    last_seen: float
    tasks: dict[int, _Task] = field(default_factory=dict)
    draining: bool = False
    lost: bool = False

    @property
    def name(self) -> str:
        """For messages: ``engine 3 (block 0)``."""
        return f"engine {self.engine_id} (block {self.block})"


class Dispatcher:
    """Owns the engine channel; see the module docstring."""

    def __init__(self, label: str, key: bytes, ip: str, context: ExecutorContext,
                 prefetch: int = 128, lost_after: float = 5.0) -> None:
        self.label, self.context = label, context
        self.signer = Signer(key)
        self.prefetch, self.lost_after = prefetch, lost_after
        self._zctx = zmq.Context()
        self._sock = self._zctx.socket(zmq.ROUTER)
        self._sock.linger = 0
        port = self._sock.bind_to_random_port(f"tcp://{ip}")
        self.address = f"tcp://{ip}:{port}"
        self._queue: deque[_Task] = deque()
        self._control: deque[tuple[Any, ...]] = deque()
        self._tasks: dict[Future[Any], _Task] = {}
        self.engines: dict[bytes, EngineInfo] = {}
        self._lock = threading.Lock()
        self._keys = itertools.count()
        self._wake_r, self._wake_w = os.pipe()
        self._poked = False
        self._stop = False
        self._runtime: float | None = None  # moving average of task run time, seconds
        self.on_engine_change: Callable[[], None] = lambda: None
        self._thread = threading.Thread(target=self._run, name=f"parsl_nb-{label}-dispatch", daemon=True)

    def start(self) -> None:
        """Start the dispatch thread."""
        self._thread.start()

    # ----------------------------------------------------------- any thread
    def submit(self, tid: int, func: Callable[..., Any], args: tuple[Any, ...],
               kwargs: dict[str, Any]) -> Future[Any]:
        """Queue a task; its future resolves when an engine reports its result."""
        fut: Future[Any] = LeanFuture()
        task = _Task(next(self._keys), tid, func, args, kwargs, fut)
        with self._lock:
            self._tasks[fut] = task
        self._queue.append(task)
        self._poke()
        return fut

    def cancel(self, fut: Future[Any]) -> bool:
        """Cancel a queued or running task; True if its result will never be reported."""
        with self._lock:
            task = self._tasks.pop(fut, None)
        if task is None or not fut.cancel():
            return False
        if task.engine is not None:
            self._control.append(("cancel", task.engine.ident, task.key))
            self._poke()
        return True

    def fail_queued(self, exc: BaseException) -> int:
        """Fail every task not yet sent to an engine with ``exc``; return how many."""
        n = 0
        while self._queue:
            task = self._queue.popleft()
            n += self._settle(task, exc=exc)
        return n

    @property
    def queued(self) -> int:
        """Tasks waiting for an engine."""
        return len(self._queue)

    @property
    def outstanding(self) -> int:
        """Tasks submitted and not finished."""
        return len(self._tasks)

    def retire(self, block: str, why: str) -> None:
        """Stop the engines of ``block`` and count them lost (its job ended: scancel, qdel, walltime)."""
        self._control.append(("retire", block, why))
        self._poke()

    def drain(self, block: str) -> None:
        """Send no more tasks to the engines of ``block`` (it is being retired)."""
        for eng in list(self.engines.values()):
            if eng.block == block:
                eng.draining = True

    def stop(self) -> None:
        """Stop engines, cancel every unfinished future and end the thread."""
        self._stop = True
        self._poke()
        self._thread.join(timeout=3)
        for task in list(self._tasks.values()):
            task.future.cancel()
        self._tasks.clear()
        self._zctx.destroy(linger=0)
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _poke(self) -> None:
        if not self._poked:
            self._poked = True
            try:
                os.write(self._wake_w, b"x")
            except OSError:
                pass

    # ------------------------------------------------------ dispatch thread
    def _run(self) -> None:
        poller = zmq.Poller()
        poller.register(self._sock, zmq.POLLIN)
        poller.register(self._wake_r, zmq.POLLIN)
        next_check = 0.0
        while not self._stop:
            ready = dict(poller.poll(200))
            if self._wake_r in ready:
                os.read(self._wake_r, 4096)
                self._poked = False
            if self._sock in ready:
                self._receive()
            try:
                self._do_control()
                self._dispatch()
                if time.monotonic() >= next_check:
                    next_check = time.monotonic() + 0.5
                    self._check_engines()
            except Exception:  # keep the channel alive whatever one round did
                logger.exception("executor %s: dispatch round failed", self.label)
        for eng in list(self.engines.values()):
            self._send(eng.ident, ("stop",))

    def _send(self, ident: bytes, msg: tuple[Any, ...], bufs: list[Any] | None = None) -> None:
        try:
            self._sock.send_multipart([ident, *self.signer.pack(msg, bufs or [])], zmq.NOBLOCK)
        except zmq.ZMQError as e:
            logger.warning("executor %s: could not send %s: %s", self.label, msg[0], e)

    def _receive(self) -> None:
        for _ in range(1000):
            try:
                frames = self._sock.recv_multipart(zmq.NOBLOCK, copy=True)
            except zmq.Again:
                return
            msg = self.signer.unpack(frames[1:])
            if msg is None:
                logger.warning("executor %s: dropped a message with a bad signature", self.label)
                continue
            self._handle(frames[0], msg[0], msg[1])

    def _handle(self, ident: bytes, msg: tuple[Any, ...], bufs: list[Any]) -> None:
        eng = self.engines.get(ident)
        if msg[0] == "hello":
            info = msg[1]
            self.engines[ident] = EngineInfo(ident, info["engine"], info["block"], info["pid"], info["host"],
                                             time.monotonic())
            self._send(ident, ("hb",))
            if self.context.resource_interval:
                self._send(ident, ("settings", {"resource_interval": self.context.resource_interval}))
            self.on_engine_change()
            return
        if eng is None or eng.lost:
            return
        eng.last_seen = time.monotonic()
        if msg[0] == "hb" and len(msg) > 1:
            self._resources(eng, msg[1])
        if msg[0] == "done":
            self._done(eng, msg[1], msg[2], bufs)

    def _done(self, eng: EngineInfo, started: list[int], results: list[Any], bufs: list[Any]) -> None:
        for key in started:
            task = eng.tasks.get(key)
            if task is not None:
                task.started = time.monotonic()
                if task.tid >= 0:
                    self.context.task_running(task.tid)
        for key, status, data, start, n in results:
            task = eng.tasks.pop(key, None)
            if task is None or status == CANCELLED:
                continue
            self._measure(task)
            try:
                value = decode_value(data, bufs[start:start + n])
            except Exception as e:
                self._settle(task, exc=SerializationError("the task's result", f"{type(e).__name__}: {e}"))
                continue
            if status == OK:
                self._settle(task, result=value)
            else:
                self._settle(task, exc=value)

    def _resources(self, eng: EngineInfo, samples: list[tuple[Any, ...]]) -> None:
        publish = self.context.publish
        for t, tid, cpu, rss, vms, rb, wb, threads in samples:
            publish(ResourceEvent(t, tid, self.label, eng.engine_id, eng.block, cpu, rss, vms, rb, wb, threads))

    def _measure(self, task: _Task) -> None:
        took = time.monotonic() - task.started if task.started else 0.0
        self._runtime = took if self._runtime is None else 0.9 * self._runtime + 0.1 * took

    def _cap(self) -> int:
        """Tasks to queue per engine: about 50 ms of work, so late engines still get some."""
        if self._runtime is None:
            return min(4, self.prefetch)
        return max(2, min(self.prefetch, int(0.05 / max(self._runtime, 1e-5))))

    def _settle(self, task: _Task, result: Any = None, exc: BaseException | None = None) -> int:
        with self._lock:
            self._tasks.pop(task.future, None)
        try:
            if exc is not None:
                task.future.set_exception(exc)
            else:
                task.future.set_result(result)
        except InvalidStateError:
            return 0  # cancelled meanwhile
        return 1

    def _do_control(self) -> None:
        while self._control:
            kind, ident, key = self._control.popleft()
            if kind == "retire":
                self._retire(ident, key)
                continue
            eng = self.engines.get(ident)
            if eng is not None:
                eng.tasks.pop(key, None)
                self._send(ident, (kind, key))

    def _retire(self, block: str, why: str) -> None:
        for eng in list(self.engines.values()):
            if eng.block == block:
                self._send(eng.ident, ("stop",))
                self._lose(eng, why)

    def _dispatch(self) -> None:
        live = [e for e in self.engines.values() if not e.lost and not e.draining]
        if not self._queue or not live:
            return
        plan: dict[bytes, list[_Task]] = {}
        cap = self._cap()
        while self._queue:
            eng = min(live, key=lambda e: len(e.tasks))
            if len(eng.tasks) >= cap:
                break
            task = self._queue.popleft()
            if task.future.done():
                continue
            task.engine = eng
            eng.tasks[task.key] = task
            plan.setdefault(eng.ident, []).append(task)
        for ident, tasks in plan.items():
            self._send_batch(self.engines[ident], tasks)

    def _send_batch(self, eng: EngineInfo, tasks: list[_Task]) -> None:
        funcs: dict[int, tuple[bytes, bytes]] = {}
        entries: list[tuple[int, int, bytes, bytes, int, int]] = []
        bufs: list[Any] = []
        for task in tasks:
            try:
                fkey, fdata = funcs.get(id(task.func)) or funcs.setdefault(id(task.func),
                                                                           encode_function(task.func))
                payload, b = encode_call(task.func, task.args, task.kwargs)
            except SerializationError as e:
                eng.tasks.pop(task.key, None)
                self._settle(task, exc=e)
                continue
            entries.append((task.key, task.tid, fkey, payload, len(bufs), len(b)))
            bufs.extend(b)
            if task.tid >= 0:
                self.context.task_placed(task.tid, eng.engine_id, eng.block)
        if entries:
            table = dict(funcs.values())
            self._send(eng.ident, ("tasks", entries, table), bufs)

    def _check_engines(self) -> None:
        now = time.monotonic()
        for eng in list(self.engines.values()):
            self._send(eng.ident, ("hb",))
            if eng.lost:
                continue
            if now - eng.last_seen > self.lost_after:
                self._lose(eng, f"no heartbeat for {now - eng.last_seen:.1f} s")
            elif eng.host == HOST and not _alive(eng.pid):
                self._lose(eng, f"its process (pid {eng.pid}) exited")

    def _lose(self, eng: EngineInfo, why: str) -> None:
        eng.lost = True
        del self.engines[eng.ident]
        logger.warning("executor %s: %s lost: %s", self.label, eng.name, why)
        requeue = []
        # An engine runs its tasks one at a time in the order sent, so the oldest
        # unfinished one may be running even if its "started" message died with it.
        for n, task in enumerate(eng.tasks.values()):
            if task.started or n == 0:
                self._settle(task, exc=WorkerLost(eng.name, f"{why}; executor {self.label!r}"))
            else:
                task.engine = None
                requeue.append(task)
        eng.tasks.clear()
        self._queue.extendleft(reversed(requeue))
        self.on_engine_change()


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
