"""Parsl's module path ``parsl.data_provider`` (see ``parsl_nb.data``)."""
