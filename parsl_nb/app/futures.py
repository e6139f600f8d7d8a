"""Parsl's ``parsl.app.futures``: :class:`DataFuture`."""

from ..futures import DataFuture

__all__ = ["DataFuture"]
