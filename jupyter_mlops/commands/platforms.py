"""``deploy``, ``export``, ``ci``, ``init`` and ``score`` (terminal): the project on the engines
production runs on. What they do and print is in ``platforms_calls.py``, imported when one runs."""

from __future__ import annotations

from types import ModuleType

from .declaration import CLI, Command, arg


def calls() -> ModuleType:
    """What these commands do and print (``platforms_calls.py``), imported when one runs."""
    from . import platforms_calls  # noqa: PLC0415 -- --help and %load_ext import no handler

    return platforms_calls


DEPLOY = Command(
    "deploy",
    "write Kubernetes or KServe manifests serving a model's champion (and canary)",
    (
        arg("model"),
        arg("--target", required=True, choices=["kserve", "kubernetes"]),
        arg("--out", required=True, metavar="DIR", help="folder for the manifests"),
        arg("--namespace", "-n", default="default"),
        arg("--image", help="the packaged router image (default: MODEL:CHAMPION_VERSION)"),
        arg(
            "--secret",
            default="mlops-tracking",
            help="Secret holding MLFLOW_TRACKING_URI and the credentials (never inlined)",
        ),
        arg("--mode", choices=["serverless", "raw"], default="serverless", help="KServe mode"),
        arg(
            "--artifact-root",
            metavar="URI",
            help="KServe: the object store behind the tracking server (s3://..., pvc://...)",
        ),
        arg("--collector-url", metavar="URL", help="KServe: post request logs here instead"),
        arg("--service-account", help="KServe: a service account that can read the model files"),
        arg("--replicas", type=int, default=2),
        arg("--max-replicas", type=int, default=10),
        arg("--cpu", default="500m", help="CPU request per replica"),
        arg("--memory", default="1Gi", help="memory request per replica"),
    ),
    call=lambda: calls().deploy,
    show=lambda: calls().deployed_text,
    front_ends=(CLI,),
    description="Write manifests a cluster applies as they are. The kubernetes target's router "
    "replicas follow the aliases (promote and rollback need no redeploy); KServe's "
    "InferenceService does not: run deploy again after promote or rollback.",
)

EXPORT = Command(
    "export",
    "compile mlops.yaml into an Argo, Airflow or Kubeflow pipeline (one container per step)",
    (
        arg("--target", required=True, choices=["argo", "airflow", "kfp"]),
        arg("--out", required=True, metavar="DIR", help="folder for the generated files"),
        arg("--image", required=True, help="an image holding the project and jupyter-mlops"),
        arg("--project-dir", default="/project", metavar="PATH", help="the project in the image"),
        arg("--namespace", "-n", default="default"),
        arg(
            "--secret",
            default="mlops-tracking",
            help="Secret holding MLFLOW_TRACKING_URI and the credentials (never inlined)",
        ),
        arg("--service-account", help="the pods' service account"),
        arg("--cpu", default="1", help="CPU request per step"),
        arg("--memory", default="2Gi", help="memory request per step"),
    ),
    call=lambda: calls().export,
    show=lambda: calls().exported_text,
    front_ends=(CLI,),
    description="Each step runs `jupyter-mlops build --only STEP` against the team server, so "
    "the shared build cache skips unchanged steps; grid and random sweeps fan out one task per "
    "trial; each schedule trigger of loop: becomes a scheduled pipeline ending in its cycle.",
)

CI = Command(
    "ci",
    "build, validate the model against the champion, write ci-report.md (exit 5: a gate failed)",
    (
        arg(
            "--out",
            default="ci-report.md",
            metavar="FILE",
            help="the report, relative to the project; its plots beside it",
        ),
        arg("--model", help="registered model (default: release.model in mlops.yaml)"),
        arg(
            "--step",
            help="the step whose model is the candidate (default: the last sweep's best, else the "
            "last step that logged one)",
        ),
        arg("--jobs", "-j", type=int, metavar="N", help="notebooks run at once"),
    ),
    call=lambda: calls().ci,
    show=lambda: calls().ci_text,
    front_ends=(CLI,),
    description="For a pull request: build with the shared cache, register the model as a "
    "candidate, run the release gates against the current champion, compare the training "
    "data, and write a Markdown report with PNG plots for a PR comment.",
)

INIT = Command(
    "init",
    "write project scaffolding: --ci github|gitlab writes a workflow running `ci` on requests",
    (
        arg("--ci", required=True, choices=["github", "gitlab"], help="the CI system"),
        arg("--force", action="store_true", help="replace an existing workflow file"),
    ),
    call=lambda: calls().init,
    show=lambda: calls().init_text,
    front_ends=(CLI,),
)

SCORE = Command(
    "score",
    "batch predictions of MODEL@ALIAS over a Parquet or CSV file, logged for monitoring",
    (
        arg("model", metavar="MODEL@ALIAS", help="MODEL@ALIAS or MODEL/VERSION"),
        arg("input", metavar="INPUT", help="a .parquet or .csv file"),
        arg(
            "output", metavar="OUTPUT", help=".parquet or .csv: the input with a prediction column"
        ),
        arg("--engine", choices=["local", "dask", "spark"], default="local"),
        arg("--batch-rows", type=int, default=100_000, metavar="N", help="rows per batch (local)"),
        arg("--scheduler", metavar="ADDR", help="dask: a running scheduler (tcp://host:port)"),
        arg("--workers", type=int, default=2, metavar="N", help="dask: local cluster workers"),
    ),
    call=lambda: calls().score,
    show=lambda: calls().scored_text,
    front_ends=(CLI,),
    description="Every prediction lands in the model's prediction log with the version that "
    "made it, so `monitor` sees batch scoring as it sees online traffic. With dask (and spark), "
    "OUTPUT is a folder of part files.",
)

COMMANDS = (DEPLOY, EXPORT, CI, INIT, SCORE)
