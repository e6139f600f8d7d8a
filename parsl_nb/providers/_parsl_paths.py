"""Parsl's provider module paths, such as ``parsl_nb.providers.slurm.slurm``.

Parsl keeps each provider in a package of its own (``parsl/providers/slurm/slurm.py``);
parsl_nb keeps one module per provider. Each Parsl path is registered here as
another name of that module, so ``from parsl_nb.providers.slurm.slurm import
SlurmProvider`` works. The package imports this module, and Python imports the
package before any path under it.
"""

from __future__ import annotations

import sys

from . import condor, gridengine, local, lsf, pbspro, slurm, torque

_PACKAGE = __name__.rpartition(".")[0]

# Parsl's path under parsl_nb.providers -> the module that holds it
PARSL_PATHS = {
    "condor.condor": condor,
    "grid_engine": gridengine,
    "grid_engine.grid_engine": gridengine,
    "local.local": local,
    "lsf.lsf": lsf,
    "pbspro.pbspro": pbspro,
    "slurm.slurm": slurm,
    "torque.torque": torque,
}

for _path, _module in PARSL_PATHS.items():
    sys.modules.setdefault(f"{_PACKAGE}.{_path}", _module)
    _parent, _, _leaf = f"{_PACKAGE}.{_path}".rpartition(".")
    if not hasattr(sys.modules[_parent], _leaf):  # attribute access too: parsl_nb.providers.slurm.slurm
        setattr(sys.modules[_parent], _leaf, _module)
