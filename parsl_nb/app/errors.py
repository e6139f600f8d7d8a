"""Parsl's ``parsl.app.errors``: the app errors, from :mod:`parsl_nb.errors`."""

from ..errors import (
    AppBadFormatting,
    AppException,
    AppTimeout,
    BadStdStreamFile,
    BashAppNoReturn,
    BashExitFailure,
    MissingOutputs,
    ParslError,
)

__all__ = ["AppBadFormatting", "AppException", "AppTimeout", "BadStdStreamFile", "BashAppNoReturn",
           "BashExitFailure", "MissingOutputs", "ParslError"]
