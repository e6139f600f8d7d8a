"""The kernel the apps submit to by default: ``load``, ``dfk``, ``clear``."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from ..errors import ConfigError, NoDataFlowKernelError

if TYPE_CHECKING:
    from ..config import Config
    from .kernel import DataFlowKernel

__all__ = ["DataFlowKernelLoader", "clear", "dfk", "load", "wait_for_current_tasks"]


class DataFlowKernelLoader:
    """Holds the loaded DataFlowKernel (Parsl's name and class methods)."""

    _dfk: DataFlowKernel | None = None
    _lock = threading.Lock()

    @classmethod
    def load(cls, config: Config | None = None) -> DataFlowKernel:
        """Start a DataFlowKernel with ``config`` and make it the default."""
        from .kernel import DataFlowKernel

        with cls._lock:
            if cls._dfk is not None:
                raise ConfigError(
                    f"a DataFlowKernel is already loaded (run dir {cls._dfk.run_dir}); call "
                    "parsl_nb.clear() to shut it down before loading another config"
                )
            cls._dfk = DataFlowKernel(config)
            return cls._dfk

    @classmethod
    def dfk(cls) -> DataFlowKernel:
        """The loaded DataFlowKernel."""
        current = cls._dfk
        if current is None:
            raise NoDataFlowKernelError(
                "no DataFlowKernel is loaded: call parsl_nb.load() (a thread pool) or "
                "parsl_nb.load(config) before calling an app"
            )
        return current

    @classmethod
    def clear(cls) -> None:
        """Clean up the loaded kernel (if any) and forget it."""
        current = cls._dfk
        if current is not None:
            current.cleanup()
        cls._dfk = None

    @classmethod
    def wait_for_current_tasks(cls) -> None:
        """Wait for every task of the loaded kernel."""
        cls.dfk().wait_for_current_tasks()

    @classmethod
    def _forget(cls, kernel: DataFlowKernel) -> None:
        if cls._dfk is kernel:
            cls._dfk = None


def load(config: Config | None = None) -> DataFlowKernel:
    """Start a DataFlowKernel and make it the one apps submit to.

    Parameters
    ----------
    config : Config, optional
        Default ``Config()``: a thread pool of 2 threads.

    Returns
    -------
    DataFlowKernel
        Usable as a context manager that cleans up on exit.

    Raises
    ------
    ConfigError
        If a kernel is already loaded; call :func:`clear` first.
    """
    return DataFlowKernelLoader.load(config)


def dfk() -> DataFlowKernel:
    """The loaded DataFlowKernel; raises ``NoDataFlowKernelError`` if none is."""
    return DataFlowKernelLoader.dfk()


def clear() -> None:
    """Shut down the loaded DataFlowKernel (if any) so another can be loaded."""
    DataFlowKernelLoader.clear()


def wait_for_current_tasks() -> None:
    """Block until every task of the loaded kernel has finished."""
    DataFlowKernelLoader.wait_for_current_tasks()
