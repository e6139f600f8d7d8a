"""Parsl's ``parsl.providers.errors``, where parsl_nb has an equivalent.

``SubmitException`` is :class:`~parsl_nb.providers.commands.SubmitError`
(its exit code is ``returncode``). A scheduler command that cannot run at all
raises :class:`~parsl_nb.providers.commands.CommandFailed`.
"""

from .commands import CommandFailed, SubmitError

SubmitException = SubmitError
"""Parsl's name for :class:`~parsl_nb.providers.commands.SubmitError`."""

__all__ = ["CommandFailed", "SubmitError", "SubmitException"]
