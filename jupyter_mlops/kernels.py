"""The kernel manager for every notebook we run (builds, papermill, reproductions, gate notebooks).

ipykernel 7 warns on stderr ("Kernel is running over TCP without encryption ...") whenever its
ZeroMQ sockets carry no CurveZMQ keys, which jupyter_client provisions only when asked to. So each
build step and papermill run printed it once per kernel. Asking is the fix, not a filter: with
``transport_encryption="auto"`` the manager hands keys to any kernel whose spec declares
``supported_encryption: ["curve"]`` (ipykernel's does) and leaves other kernels as they were.

It also leaves out the SIGINT jupyter_client sends before every shutdown: our kernels are shut
down once their notebook has finished (or are killed outright on a timeout or Ctrl-C), so the
interrupt has nothing to stop, and a kernel that caught it mid-message logged "KeyboardInterrupt
caught in kernel." into the build's output.

Imported only where notebooks run (papermill already loaded jupyter_client by then).
"""

from __future__ import annotations

import zmq
from jupyter_client import AsyncKernelManager  # noqa: TID253 -- needed at import here
from traitlets import default

# a dotted name, for papermill/nbclient's ``kernel_manager_class`` option
ENCRYPTED_KERNEL_MANAGER = "jupyter_mlops.kernels.EncryptedKernelManager"


class EncryptedKernelManager(AsyncKernelManager):
    """nbclient's default manager, with CurveZMQ transport encryption where the kernel has it and
    no interrupt ahead of a shutdown."""

    @default("transport_encryption")
    def _encrypt_when_possible(self) -> str:
        return "auto" if zmq.has("curve") else "disabled"

    async def _async_interrupt_kernel(self) -> None:
        if self.shutting_down:  # the shutdown request (then SIGTERM, SIGKILL) follows anyway
            return
        await super()._async_interrupt_kernel()
