"""Parsl's module path ``parsl.app``, so Parsl imports work unchanged (see ``parsl_nb.apps``)."""
