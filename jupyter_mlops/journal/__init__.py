"""The journal: every record a process makes for MLflow is appended here first, then replayed.

A kernel, a papermill run or a build step appends to its own SQLite journal (``outbox``); the
workspace's sync agent (``agent``) replays every journal into MLflow exactly once (``replay``).
Each record is one of the typed, versioned kinds of ``records`` (``CreateRun``, ``LogData``,
``LogModel``...), shared by the code that writes it and the replayer that reads it; the module's
docstring says how to add a kind (a dataclass, its handler in ``Replayer._send_one``, its
writers) and how to change one without stranding journals already on disk.

The journal writes to MLflow through ``store`` (the client, logged models, dataset versions) and
never reads its read models (runs, run details): ``.importlinter`` forbids it.

Importing the package registers the read barrier: a query through ``store`` first lands the
records this process (or a dead one) still has queued, so it reads its own writes.
"""

from ..store.client import register_read_barrier
from .own_writes import flush_own

register_read_barrier(flush_own)
