"""``python -m jupyter_mlops.demo``: the example project end to end."""

from __future__ import annotations

import sys

from .project import main

sys.exit(main())
