"""Parsl's ``parsl.dataflow.futures``: :class:`AppFuture`."""

from ..futures import AppFuture

__all__ = ["AppFuture"]
