"""The engine executor: an ipyparallel pilot cluster driven by the DataFlowKernel.

Modules: ``controller`` (the private ipyparallel controller), ``blocks``
(provider jobs of engines and scaling), ``dispatch`` (the kernel side of the
task channel), ``wire`` (signing and serialisation), ``worker`` (the fixed
engine-side entry point) and ``htex`` (Parsl's ``HighThroughputExecutor`` names).
"""

from .executor import EngineExecutor
from .htex import HighThroughputExecutor

__all__ = ["EngineExecutor", "HighThroughputExecutor"]
