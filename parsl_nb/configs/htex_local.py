"""Parsl's ``parsl.configs.htex_local``: engines on this machine, one block.

The Parsl user guide's examples start from it
(``from parsl.configs.htex_local import config``); here the executor is
parsl_nb's engine executor under Parsl's name.
"""

from ..config import Config
from ..executors.engines.htex import HighThroughputExecutor
from ..providers.local import LocalProvider

__all__ = ["config"]

config = Config(
    executors=[
        HighThroughputExecutor(
            label="htex_local",
            cores_per_worker=1,
            provider=LocalProvider(init_blocks=1, max_blocks=1),
        ),
    ],
)
"""One local block of engines, one per core; ``parsl.load(config)``."""
