"""How long a name or a value may be, one constant each: MLflow's limits, and the lengths this
project cuts its own texts to before they go into a tag, a param or a record.

MLflow refuses a longer key or value; the texts we write ourselves (an error message, a reason, a
joined list) are cut well inside those limits, so the cut is ours and never MLflow's refusal.
"""

from __future__ import annotations

MAX_KEY = 250  # MLflow: a param, metric or tag name
MAX_PARAM_VALUE = 6000  # MLflow: a param's value
MAX_TAG_VALUE = 8000  # MLflow: a run tag's value

LIST_TEXT = 5000  # a joined list or a small JSON document kept in one tag (a registry tag too)
ERROR_TEXT = 1000  # an error's message kept with a run or a build step
LINE_TEXT = 500  # one line: a reason, a threshold, a parameter shown as a tag
