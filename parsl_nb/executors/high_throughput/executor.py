"""Parsl's ``parsl.executors.high_throughput.executor``: the engine executor under Parsl's name."""

from ..engines import HighThroughputExecutor

__all__ = ["HighThroughputExecutor"]
