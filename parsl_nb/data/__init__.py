"""Files and data movement."""

from .files import File

__all__ = ["File"]
