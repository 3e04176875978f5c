"""The commands of both front ends, declared once (``declaration.py``), one module a topic.

Each topic module lists its ``Command``s in ``COMMANDS``; ``registry.py`` gathers them for
``cli.py`` and ``notebook/subcommands.py``. A declaration names its functions, which live in
``<topic>_calls.py`` (and ``notebook/*_views.py``) and are imported only when the command runs:
the CLI must start in milliseconds (an unchanged pipeline rebuild is budgeted at 0.25 s end to
end) and ``%load_ext`` must stay light.
"""
