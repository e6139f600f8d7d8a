"""The engine-side entry point: one fixed loop that runs tasks sent by the kernel.

An ipyparallel engine is started with ``--IPEngine.startup_command`` calling
:func:`schedule`; once the engine has registered with its controller, the loop
takes over the engine's main thread (so walltime alarms and cancel signals
reach the task). An IO thread owns the socket to the kernel: it queues tasks,
handles cancels, batches outgoing results and heartbeats, and ends the engine
when the kernel has been silent for ``PARSL_NB_KERNEL_TIMEOUT`` seconds.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import threading
import time
import traceback
from collections import OrderedDict, deque
from typing import Any

import zmq

from .wire import Signer, decode_function, decode_value, encode_value

__all__ = ["OK", "RAISED", "CANCELLED", "Worker", "schedule", "serve"]

OK, RAISED, CANCELLED = 0, 1, 2
CHANNEL_ENV = "PARSL_NB_CHANNEL"
BLOCK_ENV = "PARSL_NB_BLOCK"
TIMEOUT_ENV = "PARSL_NB_KERNEL_TIMEOUT"
HEARTBEAT = 0.5


def schedule() -> None:
    """Called in the engine's startup command: run :func:`serve` once the engine is up."""
    from ipyparallel.engine.app import IPEngine

    IPEngine.instance().loop.add_callback(_serve_in_engine)


def _serve_in_engine() -> None:
    from IPython import get_ipython

    kernel = get_ipython().kernel
    engine_id = str(getattr(kernel, "engine_id", getattr(kernel, "int_id", "?")))
    serve(os.environ[CHANNEL_ENV], kernel.session.key, engine_id)


def serve(address: str, key: bytes, engine_id: str = "?") -> None:
    """Run tasks from the kernel at ``address`` until told to stop; then exit the process."""
    timeout = float(os.environ.get(TIMEOUT_ENV, "15"))
    worker = Worker(address, key, engine_id, os.environ.get(BLOCK_ENV, ""), timeout)
    try:
        worker.run()
    finally:
        os._exit(0)


class Worker:
    """Runs tasks one at a time in the main thread; see the module docstring."""

    def __init__(self, address: str, key: bytes, engine_id: str, block: str, kernel_timeout: float) -> None:
        self.address, self.signer = address, Signer(key)
        self.info = {"engine": engine_id, "block": block, "pid": os.getpid(), "host": socket.gethostname()}
        self.kernel_timeout = kernel_timeout
        self.inbox: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self.funcs: OrderedDict[bytes, Any] = OrderedDict()
        self.cancelled: set[int] = set()
        self.current: int | None = None
        self.lock = threading.Lock()
        self.outbox: deque[tuple[int, int, bytes, list[Any]] | int] = deque()
        self.wake_r, self.wake_w = os.pipe()
        self.poked = False
        self.current_tid: int | None = None
        self.resource_interval: float | None = None  # set by the kernel's "settings" message
        self.samples: list[tuple[Any, ...]] = []  # resource samples waiting for the next heartbeat

    # ------------------------------------------------------------ main thread
    def run(self) -> None:
        """The task loop (main thread)."""
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _exit_on_term)  # ipyparallel's handler needs the loop we took over
        threading.Thread(target=self._io, name="parsl_nb-engine-io", daemon=True).start()
        pending: int | None = None
        while True:
            try:
                item = self.inbox.get()
                if item is None:
                    return
                pending = item[0]
                self._run_one(item)
                pending = None
            except KeyboardInterrupt:  # a cancel that landed outside the task itself
                if pending is not None:
                    self._emit(pending, CANCELLED, None)
                pending = None

    def _run_one(self, item: tuple[Any, ...]) -> None:
        key, tid, fkey, fdata, payload, bufs = item
        with self.lock:
            if key in self.cancelled:
                self.cancelled.discard(key)
                self._emit(key, CANCELLED, None)
                return
            self.current, self.current_tid = key, tid
        self._push(key)
        status, value = OK, None
        try:
            func = self._function(fkey, fdata)
            args, kwargs = decode_value(payload, bufs)
            value = func(*args, **kwargs)
        except KeyboardInterrupt:
            status = CANCELLED
        except BaseException as e:  # noqa: B036 - every failure goes back to the kernel
            status, value = RAISED, _with_remote_traceback(e, self.info)
        finally:
            with self.lock:
                self.current = None
        self._emit(key, status, value)

    def _function(self, fkey: bytes, fdata: bytes) -> Any:
        func = self.funcs.get(fkey)
        if func is None:
            func = self.funcs[fkey] = decode_function(fdata)
            if len(self.funcs) > 256:
                self.funcs.popitem(last=False)
        return func

    def _emit(self, key: int, status: int, value: Any) -> None:
        try:
            data, bufs = encode_value(value)
        except Exception as e:
            from ...errors import SerializationError

            what = "the exception the task raised" if status == RAISED else "the task's result"
            status, (data, bufs) = RAISED, encode_value(SerializationError(what, f"{type(e).__name__}: {e}"))
        self.outbox.append((key, status, data, bufs))
        self._poke()

    def _push(self, key: int) -> None:
        self.outbox.append(key)  # an int alone: this task started
        self._poke()

    def _poke(self) -> None:
        if not self.poked:
            self.poked = True
            os.write(self.wake_w, b"x")

    # -------------------------------------------------------------- IO thread
    def _io(self) -> None:
        ctx = zmq.Context()
        sock = ctx.socket(zmq.DEALER)
        sock.linger = 0
        sock.connect(self.address)
        sock.send_multipart(self.signer.pack(("hello", self.info)))
        poller = zmq.Poller()
        poller.register(sock, zmq.POLLIN)
        poller.register(self.wake_r, zmq.POLLIN)
        heard = next_beat = next_sample = time.monotonic()
        sampler: Any = None
        while True:
            ready = dict(poller.poll(int(min(HEARTBEAT, self.resource_interval or HEARTBEAT) * 1000)))
            if sock in ready:
                heard = time.monotonic()
                self._receive(sock)
            if self.wake_r in ready:
                os.read(self.wake_r, 4096)
                self.poked = False
                self._flush(sock)
            now = time.monotonic()
            if self.resource_interval and now >= next_sample:
                sampler = sampler or _sampler()
                self.samples.append(sampler.sample(self.current_tid if self.current is not None else None))
                next_sample = now + self.resource_interval
            if now >= next_beat:
                beat, self.samples = (("hb", self.samples) if self.samples else ("hb",)), []
                sock.send_multipart(self.signer.pack(beat))  # resource samples ride on the heartbeat
                next_beat = now + HEARTBEAT
            if now - heard > self.kernel_timeout:
                os._exit(3)  # the kernel is gone: leave no orphan engine

    def _receive(self, sock: zmq.Socket[Any]) -> None:
        while True:
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            msg = self.signer.unpack(frames)
            if msg is not None:
                self._handle(msg[0], msg[1])

    def _handle(self, msg: tuple[Any, ...], bufs: list[Any]) -> None:
        kind = msg[0]
        if kind == "tasks":
            _, tasks, funcs = msg
            for key, tid, fkey, payload, start, n in tasks:
                self.inbox.put((key, tid, fkey, funcs.get(fkey, b""), payload, bufs[start:start + n]))
        elif kind == "cancel":
            with self.lock:
                if self.current == msg[1]:
                    os.kill(os.getpid(), signal.SIGINT)
                else:
                    self.cancelled.add(msg[1])
        elif kind == "stop":
            os._exit(0)
        elif kind == "settings":
            self.resource_interval = msg[1].get("resource_interval")

    def _flush(self, sock: zmq.Socket[Any]) -> None:
        started: list[int] = []
        results: list[tuple[int, int, bytes, int, int]] = []
        bufs: list[Any] = []
        while self.outbox:
            item = self.outbox.popleft()
            if isinstance(item, int):
                started.append(item)
            else:
                key, status, data, b = item
                results.append((key, status, data, len(bufs), len(b)))
                bufs.extend(b)
        if started or results:
            sock.send_multipart(self.signer.pack(("done", started, results), bufs))


def _exit_on_term(signum: int, frame: object) -> None:
    """scancel, qdel or the block's launcher ended this engine: exit now, mid-task or not."""
    os._exit(128 + signum)


def _sampler() -> Any:
    from .resources import Sampler

    return Sampler()


def _with_remote_traceback(exc: BaseException, info: dict[str, Any]) -> BaseException:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    note = f"Remote traceback (engine {info['engine']}, block {info['block']}, {info['host']}):\n{text}"
    exc.__traceback__ = None
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    try:
        exc.remote_traceback = text  # type: ignore[attr-defined]
    except AttributeError:
        pass
    return exc
