"""What the redactor costs: per tracked cell and per MB of notebook, against the work the tracker
already does with the same text, measured in the same run.

    .venv/bin/python benchmarks/bench_redaction.py [--quick]

A tracked cell passes its source (a typical 10-line training cell), and a kernel's history of 30
such cells, through the redactor; the baseline is what a tracked cell already does with them
(the cell hash and the history's JSON). A 1 MB notebook (code cells with text, HTML and image
outputs) is redacted as the pipeline's notebook copies are; the baseline is reading and writing
its JSON. Each case also runs with secrets planted, and the first call of a fresh process (the
detect-secrets patterns compiled from the user cache) is timed separately.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jupyter_mlops.redact import RunRedaction, default_redactor, redact_json_text

CELL = """from sklearn.linear_model import LogisticRegression
C = 0.5
max_iter = 200
clf = LogisticRegression(C=C, max_iter=max_iter).fit(X_train, y_train)
accuracy = clf.score(X_test, y_test)
print(f"accuracy {accuracy:.3f}")
df = pd.read_csv("data/train.csv").dropna()
features = [c for c in df.columns if c != "label"]
importances = dict(zip(features, clf.coef_[0]))
sorted(importances.items(), key=lambda kv: -abs(kv[1]))[:5]
"""
SECRET_CELL = CELL + (
    "GITHUB_TOKEN = 'ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5'\n"
    'DB_URL = "postgresql://analyst:Tr0ub4dor-and-3@db.example.org:5432/sales"\n'
)


def per_call_us(func, n: int) -> float:
    """Median of 5 rounds of ``n`` calls, per call, in microseconds."""
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            func()
        rounds.append((time.perf_counter() - start) / n)
    return statistics.median(rounds) * 1e6


def notebook(target_bytes: int, secret: bool) -> str:
    random.seed(0)
    table = "\n".join(f"{i}  {random.random():.4f}  {random.random():.4f}" for i in range(60))
    image = base64.b64encode(os.urandom(30_000)).decode()
    cells: list[dict] = []
    while len(json.dumps(cells)) < target_bytes:
        outputs = [
            {"output_type": "stream", "name": "stdout", "text": ["accuracy 0.931\n"] * 5},
            {
                "output_type": "execute_result",
                "execution_count": 1,
                "metadata": {},
                "data": {
                    "text/plain": table.splitlines(True),
                    "text/html": [f"<pre>{table}</pre>"],
                },
            },
        ]
        if len(cells) % 10 == 9:
            outputs.append(
                {"output_type": "display_data", "metadata": {}, "data": {"image/png": image}}
            )
        source = SECRET_CELL if secret and len(cells) == 3 else CELL
        cells.append(
            {
                "cell_type": "code",
                "execution_count": 1,
                "metadata": {},
                "source": source.splitlines(True),
                "outputs": outputs,
            }
        )
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def first_call_ms() -> float:
    """A fresh interpreter's first redaction (patterns from the user cache), in ms."""
    code = (
        "import time, sys; sys.path.insert(0, sys.argv[1])\n"
        "from jupyter_mlops.redact import default_redactor\n"
        "r = default_redactor(); t = time.perf_counter(); r.redact(sys.argv[2])\n"
        "print((time.perf_counter() - t) * 1000)"
    )
    root = str(Path(__file__).resolve().parents[1])
    out = subprocess.run(
        [sys.executable, "-c", code, root, CELL], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (< 30 s)")
    opts = parser.parse_args()
    n = 200 if opts.quick else 2000
    redactor = default_redactor()
    redactor.redact(CELL)  # patterns compiled (and the user cache written) once

    history = [CELL.replace("0.5", str(i)) for i in range(30)]
    base_cell = per_call_us(lambda: hashlib.sha256(CELL.encode()).hexdigest(), n)
    base_history = per_call_us(lambda: json.dumps([{"source": s} for s in history]), n)
    cell_us = per_call_us(lambda: RunRedaction(redactor).source(CELL), n)
    fresh_cell_us = per_call_us(lambda: redactor.redact(CELL), n)
    secret_us = per_call_us(lambda: redactor.redact(SECRET_CELL), n)
    history_us = per_call_us(lambda: [redactor.redact(s) for s in history], max(n // 20, 10))

    plain, secret = notebook(1_000_000, False), notebook(1_000_000, True)
    mb = len(plain) / 1e6
    reps = 3 if opts.quick else 10
    base_nb = per_call_us(lambda: json.dumps(json.loads(plain)), reps) / 1000
    nb_ms = per_call_us(lambda: redact_json_text(redactor, plain), reps) / 1000
    nb_secret_ms = per_call_us(lambda: redact_json_text(redactor, secret), reps) / 1000
    assert "ghp_" not in redact_json_text(redactor, secret).text
    cold = first_call_ms()

    print(
        f"redaction benchmark: a {len(CELL.splitlines())}-line cell, a 30-cell history, "
        f"a {mb:.2f} MB notebook"
    )
    print(f"{'measure':<52}{'time':>12}{'ratio to baseline':>22}")
    rows = [
        ("baseline: cell hash (sha256)", base_cell, base_cell, "us"),
        ("typical cell, first time in the kernel", fresh_cell_us, base_cell, "us"),
        ("typical cell, again (history entry, cached)", cell_us, base_cell, "us"),
        ("cell with a token and a URL password", secret_us, base_cell, "us"),
        ("baseline: history JSON (30 cells)", base_history, base_history, "us"),
        ("history of 30 cells, each the first time", history_us, base_history, "us"),
    ]
    for name, value, base, unit in rows:
        print(f"{name:<52}{value:>9.1f} {unit}{value / base:>21.1f}x")
    per_mb = [
        ("baseline: notebook JSON read + write, per MB", base_nb / mb, base_nb / mb),
        ("notebook redacted, per MB", nb_ms / mb, base_nb / mb),
        ("notebook with secrets redacted, per MB", nb_secret_ms / mb, base_nb / mb),
    ]
    for name, value, base in per_mb:
        print(f"{name:<52}{value:>9.1f} ms{value / base:>21.1f}x")
    print(f"{'first call of a fresh process (patterns from cache)':<52}{cold:>9.1f} ms")
    verdict = "met" if fresh_cell_us <= 2000 else "NOT met"
    print(f"goal <= 2 ms per typical cell: {verdict} ({fresh_cell_us / 1000:.2f} ms)")


if __name__ == "__main__":
    main()
