"""``DataManager``: turns the remote Files of a call into staging tasks in the graph.

The kernel calls it twice per submit: :meth:`DataManager.stage_in` before the
app's task exists (so stage-in tasks get lower ids and the app waits for them),
and :meth:`DataManager.stage_out` once the app's task is registered.

Staging tasks run on the **app's own executor**, not on ``_parsl_internal``.
A thread executor shares this machine's file system, so either would do; but
an executor whose workers are elsewhere (engines on cluster nodes) must
download where its workers can read the copy and upload what they wrote, so
the transfer belongs with the executor that runs the app. Staged files land
in the executor's ``working_dir`` if set, else in ``<run_dir>/staging``, as
``<root>/<short hash of the URL>/<filename>``.
"""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING, Any

from ...errors import StagingError
from ...futures import AppFuture, DataFuture
from ..files import File
from .base import STAGE_IN, STAGE_OUT, StageTask, Staging
from .defaults import default_staging

if TYPE_CHECKING:
    from ...apps.base import CallSpec
    from ...dataflow.kernel import DataFlowKernel

__all__ = ["DataManager"]

_SKIP_KWARGS = ("outputs", "stdout", "stderr")


class DataManager:
    """Makes stage-in tasks for remote input Files and stage-out tasks for remote outputs (Parsl's name).

    Files passed directly as arguments, as keyword argument values, or as
    items of ``inputs=`` are staged in; Files in ``outputs=`` are staged
    out after the app. ``file:`` URLs and plain paths are never moved.

    Parameters
    ----------
    dfk : DataFlowKernel
        The kernel that owns the staging tasks.
    """

    def __init__(self, dfk: DataFlowKernel) -> None:
        self.dfk = dfk
        self._default: list[Staging] | None = None

    # ------------------------------------------------------------ providers
    def providers(self, executor: str) -> list[Staging]:
        """The executor's ``storage_access`` list, or the default providers."""
        configured = getattr(self.dfk.executors.get(executor), "storage_access", None)
        if configured is not None:
            return list(configured)
        if self._default is None:
            self._default = default_staging()
        return self._default

    def staging_dir(self, executor: str) -> str:
        """Where staged copies land: the executor's ``working_dir``, else ``<run_dir>/staging``."""
        working_dir = getattr(self.dfk.executors.get(executor), "working_dir", None)
        return str(working_dir) if working_dir else os.path.join(self.dfk.run_dir, "staging")

    def local_path(self, file: File, executor: str) -> str:
        """``<staging dir>/<short hash of the URL>/<filename>``: distinct URLs never collide."""
        digest = hashlib.sha256(file.url.encode()).hexdigest()[:12]
        return os.path.join(self.staging_dir(executor), digest, file.filename or "data")

    def _provider(self, file: File, executor: str, direction: str) -> Staging:
        providers = self.providers(executor)
        for p in providers:
            if (p.can_stage_in(file) if direction == STAGE_IN else p.can_stage_out(file)):
                return p
        way = "in" if direction == STAGE_IN else "out"
        msg = (f"no staging provider of executor {executor!r} can stage {way} {file.scheme}: files "
               f"(it has {providers}); add one to its storage_access=[...], for example "
               "parsl_nb.data.staging.default_staging()")
        raise StagingError(file.url, msg)

    # -------------------------------------------------------------- stage in
    def stage_in(self, spec: CallSpec, executor: str) -> None:
        """Replace remote Files of the call by DataFutures of stage-in tasks; place remote outputs.

        Raises
        ------
        StagingError
            If no provider of the executor handles a File's scheme (before any task is made).
        """
        for f in spec.outputs:
            if f.scheme != "file":
                self._provider(f, executor, STAGE_OUT)
                f.local_path = self.local_path(f, executor)
                os.makedirs(os.path.dirname(f.local_path), exist_ok=True)
        if not (spec.inputs or _any_remote(spec.args) or _any_remote(spec.kwargs.values())):
            return
        made: dict[str, DataFuture | File] = {}

        def swap(x: Any) -> Any:
            if not isinstance(x, File) or x.scheme == "file":
                return x
            if x.url not in made:
                made[x.url] = self._submit_in(x, executor)
            return made[x.url]

        spec.args = tuple(swap(a) for a in spec.args)
        spec.inputs = [swap(x) for x in spec.inputs]
        spec.kwargs = {k: (v if k in _SKIP_KWARGS else spec.inputs if k == "inputs" else swap(v))
                       for k, v in spec.kwargs.items()}

    def _submit_in(self, file: File, executor: str) -> DataFuture | File:
        provider = self._provider(file, executor, STAGE_IN)
        if not provider.transfers:
            return file
        staged = file.cleancopy()
        staged.local_path = self.local_path(file, executor)
        fut = self._submit(StageTask(STAGE_IN, provider, file, staged.local_path), executor, ())
        return DataFuture(fut, staged, fut.tid)

    # ------------------------------------------------------------- stage out
    def stage_out(self, fut: AppFuture[Any], executor: str) -> None:
        """Put a stage-out task after the app for each remote output; its DataFuture waits for it."""
        outputs = fut._outputs
        for i, data in enumerate(outputs):
            file = data.file_obj
            if file.scheme == "file" or file.local_path is None:
                continue
            provider = self._provider(file, executor, STAGE_OUT)
            if not provider.transfers:
                continue
            task = StageTask(STAGE_OUT, provider, file, file.local_path)
            sfut = self._submit(task, executor, (data,))
            outputs[i] = DataFuture(sfut, file, sfut.tid)

    def _submit(self, task: StageTask, executor: str, after: tuple[Any, ...]) -> AppFuture[Any]:
        from ...apps.python import PythonApp

        app: PythonApp[..., Any] = PythonApp(task, data_flow_kernel=self.dfk, executors=[executor])
        return app(*after)


def _any_remote(values: Any) -> bool:
    return any(isinstance(v, File) and v.scheme != "file" for v in values)
