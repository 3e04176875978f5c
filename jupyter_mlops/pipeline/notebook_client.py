"""papermill's NBClientEngine with a notebook client that sets the kernel environment and retries
kernel starts. Imported only when a notebook runs (it imports papermill)."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from nbclient.util import run_sync  # noqa: TID253 -- needed at import here
from papermill.clientwrap import PapermillNotebookClient  # noqa: TID253 -- needed at import here
from papermill.engines import NBClientEngine  # noqa: TID253 -- needed at import here
from papermill.utils import merge_kwargs, remove_args  # noqa: TID253 -- needed at import here
from traitlets import default

from ..kernels import EncryptedKernelManager  # noqa: TID253 -- needed at import here
from .running_kernels import forget_task, register_active

log = logging.getLogger("jupyter_mlops.engine")
KERNEL_START_ATTEMPTS = 3


class MlopsNotebookClient(PapermillNotebookClient):
    """papermill's client with an explicit kernel environment, retried kernel starts and
    encrypted kernel channels (see ``jupyter_mlops.kernels``)."""

    # nbclient's kernel manager and client, unknown to the checker: papermill ships no types
    km: Any
    kc: Any

    @default("kernel_manager_class")
    def _encrypted_kernel_manager(self) -> type:
        return EncryptedKernelManager

    def __init__(
        self,
        nb_man: Any,
        kernel_env: dict[str, str] | None = None,
        task_id: str | None = None,
        kernel_env_late: Callable[[], dict[str, str]] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(nb_man, **kw)
        self.kernel_env = kernel_env
        self.kernel_env_late = kernel_env_late
        self.task_id = task_id

    def _python_kernel(self) -> bool:
        try:
            return bool(self.km.kernel_spec.language.lower() == "python")
        except Exception:  # no spec to read: play safe, set everything at start
            return False

    async def async_start_new_kernel(self, **kwargs: Any) -> None:
        if self.km is None:
            self.km = self.create_kernel_manager()
        env = dict(self.kernel_env or {})
        late = self.kernel_env_late
        if late is not None and not self._python_kernel():
            env.update(late())
            late = None
        if env:
            kwargs["env"] = {**os.environ, **env}
        error: BaseException | None = None
        for attempt in range(KERNEL_START_ATTEMPTS):
            if self.km is None:
                self.km = self.create_kernel_manager()
            try:
                await super().async_start_new_kernel(**kwargs)
                await self.async_start_new_kernel_client()
            except (RuntimeError, TimeoutError, OSError) as exc:
                # a kernel that died before answering: usually a port taken between choice and bind
                error = exc
                log.warning("kernel start failed (attempt %d): %s", attempt + 1, exc)
                await self._reset_failed_start()
                time.sleep(0.1 * (attempt + 1))
                continue
            if self.task_id:
                register_active(self.task_id, self)
            if late is not None:
                await self._set_environ(late())
            return
        assert error is not None
        raise error

    async def _set_environ(self, values: dict[str, str]) -> None:
        """Set variables in a started Python kernel before its first cell, silently.

        What the build learns only while the kernel starts (the run id, created meanwhile by the
        tracking flusher) reaches ``os.environ`` this way: a silent execution leaves no trace in
        the notebook, its execution counts or its history, and the first cell sees the values.
        """
        if not values:
            return
        code = f"__import__('os').environ.update({json.dumps(values)})"
        msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False)
        reply = await self.async_wait_for_reply(msg_id)
        if not reply or reply.get("content", {}).get("status") != "ok":
            raise RuntimeError(f"could not set the kernel's environment: {reply}")

    start_new_kernel = run_sync(async_start_new_kernel)

    async def _reset_failed_start(self) -> None:
        from nbclient.util import ensure_async

        km, self.km, self.kc = self.km, None, None
        if km is None:
            return
        try:
            if await ensure_async(km.is_alive()):
                await ensure_async(km.shutdown_kernel(now=True))
        except Exception:  # already gone
            pass
        try:
            await ensure_async(km.cleanup_resources())
        except Exception:
            pass

    def kernel_pid(self) -> int | None:
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        return getattr(process, "pid", None)


class ManagedEngine(NBClientEngine):
    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: int = 60,
        execution_timeout: float | None = None,
        kernel_env: dict[str, str] | None = None,
        task_id: str | None = None,
        kernel_env_late: Callable[[], dict[str, str]] | None = None,
        **kwargs: Any,
    ) -> Any:
        # the same argument handling as NBClientEngine, with our client class
        kwargs = remove_args(["input_path"], **kwargs)
        safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
        final_kwargs = merge_kwargs(
            safe_kwargs,
            timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=logging.getLogger("papermill"),
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
        )
        _save_whole(nb_man)
        client = MlopsNotebookClient(
            nb_man,
            kernel_env=kernel_env,
            task_id=task_id,
            kernel_env_late=kernel_env_late,
            **final_kwargs,
        )
        try:
            return client.execute()
        finally:
            if task_id:
                forget_task(task_id)


def _save_whole(nb_man: Any) -> None:
    """papermill saves the output notebook in place while it runs (at the start, after cells):
    a papermill killed during a save left an empty or half notebook at the user's path. A local
    output is written beside it and renamed over it, so the path always holds a whole one."""
    path = nb_man.output_path
    if not isinstance(path, (str, os.PathLike)) or "://" in str(path):
        return  # papermill's other I/O handlers (S3, GCS, HTTP...) write as they do

    def save(**kwargs: Any) -> None:
        import nbformat

        target = os.fspath(path)
        tmp = os.path.join(
            os.path.dirname(target), f".{os.path.basename(target)}.{os.getpid()}.tmp"
        )
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(nbformat.writes(nb_man.nb))
        os.replace(tmp, target)
        nb_man.last_save_time = nb_man.now()

    nb_man.save = save
