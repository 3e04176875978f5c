"""Registry writes of re-executed code land in a sandbox, never in the real registry.

Reproducing a notebook that registers its model (``mlflow.register_model``, a client's
``set_registered_model_alias``, this package's own ``register``) must not register a new version
or move an alias as a side effect. The reproduction's kernel gets ``MLFLOW_REGISTRY_URI``
pointing at a scratch SQLite database (``%load_ext jupyter_mlops`` leaves a registry URI it
finds alone); afterwards the sandbox is read to report what the code tried to register.
Tracking (the re-executed runs themselves) still goes to the workspace's store.
"""

from __future__ import annotations

from pathlib import Path


class RegistrySandbox:
    def __init__(self, folder: Path) -> None:
        self.db = folder / "registry-sandbox.db"

    @property
    def uri(self) -> str:
        return f"sqlite:///{self.db}"

    def attempted(self, tracking_uri: str) -> list[str]:
        """What the code registered in the sandbox, one line each (none: it never touched it)."""
        if not self.db.exists():  # the code never used the registry: no schema to create
            return []
        from mlflow import MlflowClient

        client = MlflowClient(tracking_uri=tracking_uri, registry_uri=self.uri)
        lines = []
        for model in client.search_registered_models():
            versions = client.search_model_versions(f"name = '{model.name}'")
            aliases = model.aliases or {}
            for mv in sorted(versions, key=lambda v: int(v.version)):
                named = sorted(a for a, v in aliases.items() if str(v) == str(mv.version))
                moved = f", alias {', '.join(named)}" if named else ""
                lines.append(f"register {model.name} version {mv.version}{moved}")
            if not versions:
                lines.append(f"create registered model {model.name}")
        return lines
