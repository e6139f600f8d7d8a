"""Parsl's import path ``parsl.monitoring.monitoring.MonitoringHub``."""

from .options import MonitoringHub

__all__ = ["MonitoringHub"]
