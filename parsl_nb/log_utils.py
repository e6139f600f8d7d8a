"""Parsl's ``parsl.log_utils``: send the ``parsl_nb`` log to stderr or a file."""

from __future__ import annotations

import logging

__all__ = ["set_file_logger", "set_stream_logger"]

_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


def set_stream_logger(name: str = "parsl_nb", level: int = logging.DEBUG,
                      format_string: str | None = None) -> logging.Handler:
    """Send the ``parsl_nb`` log to stderr (Parsl's helper).

    Returns
    -------
    logging.Handler
        The handler added, for ``logger.removeHandler`` later.
    """
    return _add(name, level, format_string, logging.StreamHandler())


def set_file_logger(filename: str, name: str = "parsl_nb", level: int = logging.DEBUG,
                    format_string: str | None = None) -> logging.Handler:
    """Send the ``parsl_nb`` log to a file (Parsl's helper).

    Returns
    -------
    logging.Handler
        The handler added, for ``logger.removeHandler`` later.
    """
    return _add(name, level, format_string, logging.FileHandler(filename))


def _add(name: str, level: int, format_string: str | None, handler: logging.Handler) -> logging.Handler:
    # Parsl scripts name Parsl's logger; the same records come from parsl_nb's
    name = "parsl_nb" + name[len("parsl"):] if name == "parsl" or name.startswith("parsl.") else name
    logger = logging.getLogger(name)
    handler.setFormatter(logging.Formatter(format_string or _FORMAT))
    logger.addHandler(handler)
    logger.setLevel(level)
    return handler
