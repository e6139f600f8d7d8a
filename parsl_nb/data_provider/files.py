"""Parsl's ``parsl.data_provider.files``: :class:`File`."""

from ..data.files import File

__all__ = ["File"]
