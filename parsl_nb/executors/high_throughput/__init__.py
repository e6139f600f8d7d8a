"""Parsl's ``parsl.executors.high_throughput`` package path (see :mod:`.executor`)."""
