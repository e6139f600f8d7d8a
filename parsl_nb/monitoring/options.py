"""What ``Config(monitoring=...)`` accepts: on/off, or options such as resource sampling."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

__all__ = ["MonitoringHub", "MonitoringOptions", "resource_interval", "workflow_name"]


@dataclass
class MonitoringOptions:
    """Options of the monitoring store, for ``Config(monitoring=MonitoringOptions(...))``.

    Parameters
    ----------
    resource_interval : float, optional
        Seconds between resource samples (CPU %, RSS, VMS, bytes read and
        written, threads) of each engine's process tree, stored in the
        ``resource`` table with the task the engine was running. None
        (the default) takes no samples. Samples travel on the engines'
        heartbeats, so intervals below the heartbeat (0.5 s) are batched.
        Only engine executors sample; threads share the kernel's process.
    workflow_name : str, optional
        The run's name in the store (default: the Config's
        ``project_name``, else the notebook's or script's name).

    Examples
    --------
    >>> from parsl_nb import Config
    >>> from parsl_nb.monitoring import MonitoringOptions
    >>> config = Config(monitoring=MonitoringOptions(resource_interval=5))
    """

    resource_interval: float | None = None
    workflow_name: str | None = None

    def __post_init__(self) -> None:
        value = self.resource_interval
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
            raise ConfigError(f"resource_interval must be a positive number of seconds or None "
                              f"(got resource_interval={value!r}); None takes no samples")


class MonitoringHub(MonitoringOptions):
    """Parsl's monitoring configuration, accepted so Parsl configs run unchanged.

    There is no hub process here: the store is SQLite in the run directory.
    The hub's address and port options are accepted and ignored.

    Parameters
    ----------
    resource_monitoring_enabled : bool
        Sample engines' resources (default True, as in Parsl).
    resource_monitoring_interval : float
        Seconds between samples (default 30, as in Parsl).
    workflow_name : str, optional
        The run's name in the store.
    **ignored
        ``hub_address``, ``hub_port``, ``monitoring_debug``... (no effect).

    Examples
    --------
    >>> from parsl_nb.monitoring import MonitoringHub
    >>> hub = MonitoringHub(hub_address="localhost", resource_monitoring_interval=10)
    """

    def __init__(self, *, resource_monitoring_enabled: bool = True, resource_monitoring_interval: float = 30,
                 workflow_name: str | None = None, **ignored: Any) -> None:
        super().__init__(resource_monitoring_interval if resource_monitoring_enabled else None, workflow_name)


def resource_interval(monitoring: Any) -> float | None:
    """Seconds between engine resource samples that ``Config.monitoring`` asks for (None: no samples)."""
    value = getattr(monitoring, "resource_interval", None)
    return float(value) if value else None


def workflow_name(monitoring: Any) -> str | None:
    """The run name ``Config.monitoring`` gives, if any."""
    name = getattr(monitoring, "workflow_name", None)
    return name if isinstance(name, str) and name else None
