"""Parsl's ``parsl.dataflow.dflow``: the kernel and its loader."""

from .kernel import DataFlowKernel
from .loader import DataFlowKernelLoader

__all__ = ["DataFlowKernel", "DataFlowKernelLoader"]
