"""Parsl's ``parsl.configs.local_threads``: a thread pool in this process."""

from ..config import Config
from ..executors.threads import ThreadPoolExecutor

__all__ = ["config"]

config = Config(executors=[ThreadPoolExecutor(max_threads=4, label="local_threads")])
"""Four threads; ``parsl.load(config)`` may be run again after ``parsl.clear()``."""
