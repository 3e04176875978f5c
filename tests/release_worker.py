"""A release worker process for the cross-folder tests: run in a project folder, it reads
``promote MODEL VERSION TO START_AT`` lines on stdin, waits until START_AT (epoch seconds), acts,
and answers one JSON line per command."""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    from jupyter_mlops.errors import MlopsError
    from jupyter_mlops.release.rollout import promote, rollback
    from jupyter_mlops.store.gateway import gateway_for
    from jupyter_mlops.workspace import Workspace

    ws = Workspace.find()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        command, model, *args = parts
        time.sleep(max(0.0, float(args[-1]) - time.time()))
        t0 = time.time()
        try:
            if command == "promote":
                promote(gateway_for(ws), model, args[0], args[1])
            elif command == "rollback":
                rollback(gateway_for(ws), model, target=args[0])
            answer = {"ok": True}
        except MlopsError as exc:
            answer = {"ok": False, "error": str(exc)}
        answer.update(started=t0, finished=time.time())
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
