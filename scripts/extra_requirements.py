"""Print the requirements of one extra of pyproject.toml, one per line.

The Makefile builds the virtualenvs of the libraries whose pins clash with ours (Airflow, KServe's
SDK) from their extras, so the versions are written once: ``pip install $(python
scripts/extra_requirements.py airflow)``.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pip's own copy of tomli
    from pip._vendor import tomli as tomllib


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: extra_requirements.py EXTRA", file=sys.stderr)
        return 2
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    extras = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]
    if argv[0] not in extras:
        print(f"no extra {argv[0]!r} in pyproject.toml", file=sys.stderr)
        return 2
    print("\n".join(extras[argv[0]]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
