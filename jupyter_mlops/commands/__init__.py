"""The commands of both front ends, declared once (``declaration.py``), one module a topic.

Each topic module lists its ``Command``s in ``COMMANDS``; ``registry.py`` gathers them for
``cli.py`` and ``notebook/subcommands.py``. Modules import heavy libraries inside their calls
only: the CLI must start in milliseconds (an unchanged pipeline rebuild is budgeted at 0.25 s end
to end).
"""
