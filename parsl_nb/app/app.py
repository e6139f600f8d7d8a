"""Parsl's ``parsl.app.app``: the app decorators."""

from ..apps import AppBase, bash_app, join_app, python_app

__all__ = ["AppBase", "bash_app", "join_app", "python_app"]
