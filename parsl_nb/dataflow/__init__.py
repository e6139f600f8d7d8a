"""The DataFlowKernel, task states, events and memoization."""

from .events import BlockEvent, Event, TaskEvent
from .kernel import DataFlowKernel
from .loader import DataFlowKernelLoader
from .states import States, TaskState

__all__ = ["BlockEvent", "DataFlowKernel", "DataFlowKernelLoader", "Event", "States", "TaskEvent", "TaskState"]
