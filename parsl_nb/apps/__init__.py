"""Apps: decorators that turn functions into tasks."""

from .base import AUTO_LOGNAME, AppBase
from .bash import BashApp, bash_app
from .python import JoinApp, PythonApp, join_app, python_app

__all__ = ["AUTO_LOGNAME", "AppBase", "BashApp", "JoinApp", "PythonApp", "bash_app", "join_app", "python_app"]
