"""Load exported DAG files in Airflow's DagBag (run in .venv-airflow).

    AIRFLOW_HOME=... .venv-airflow/bin/python tests/airflow_check.py DAGS_FOLDER

Prints one JSON object: the import errors, and for each DAG its schedule and its tasks with
their upstream tasks and the arguments their pod runs.
"""

from __future__ import annotations

import json
import sys


def main(folder: str) -> int:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=folder)
    dags = {}
    for dag_id, dag in sorted(bag.dags.items()):
        timetable = dag.timetable
        dags[dag_id] = {
            "schedule": getattr(timetable, "_expression", None),
            "timezone": str(getattr(timetable, "_timezone", "")) or None,
            "tasks": {
                t.task_id: {
                    "upstream": sorted(t.upstream_task_ids),
                    "image": t.image,
                    "cmds": list(t.cmds),
                    "arguments": list(t.arguments),
                    "secrets": [e.secret_ref.name for e in t.env_from if e.secret_ref],
                }
                for t in dag.tasks
            },
        }
    errors = {str(k): str(v)[-2000:] for k, v in bag.import_errors.items()}
    print(json.dumps({"import_errors": errors, "dags": dags}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
