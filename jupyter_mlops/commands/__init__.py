"""``jupyter-mlops`` subcommands, one module a topic, each with ``register(subparsers)``.

Modules import heavy libraries inside their handlers only: the CLI must start in milliseconds
(an unchanged pipeline rebuild is budgeted at 0.25 s end to end).
"""

COMMAND_MODULES = [
    "jupyter_mlops.commands.tracking",
    "jupyter_mlops.commands.pipeline",
    "jupyter_mlops.commands.monitor",
    "jupyter_mlops.commands.release",
    "jupyter_mlops.commands.datasets",
    "jupyter_mlops.commands.agent",
]
