"""Parsl's module path ``parsl.jobs`` (see ``parsl_nb.providers``)."""
