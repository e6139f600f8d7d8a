"""Parsl's ``parsl.dataflow.memoization``: register memo keys for your own types."""

from .memo import Memoizer, id_for_memo

__all__ = ["Memoizer", "id_for_memo"]
