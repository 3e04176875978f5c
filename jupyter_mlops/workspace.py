"""The project a command works in: its root folder, its ``.mlops/`` folder and its tracking URI.

The root is the nearest folder holding ``mlops.yaml``, else the git root, else the current folder.
Everything the embedded store writes lives under ``<root>/.mlops`` so that no command ever drops
``mlflow.db`` or ``mlruns/`` into whatever folder it happens to run in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .config import load_yaml_mapping
from .errors import ConfigError
from .settings import Settings, environment_settings

CONFIG_NAME = "mlops.yaml"
STATE_DIR = ".mlops"


def find_root(start: str | os.PathLike[str] | None = None) -> Path:
    """Nearest ancestor with mlops.yaml, else the git root, else ``start`` itself."""
    here = Path(start or os.getcwd()).resolve()
    if here.is_file():
        here = here.parent
    chain = [here, *here.parents]
    for folder in chain:
        if (folder / CONFIG_NAME).is_file():
            return folder
    for folder in chain:
        if (folder / ".git").exists():
            return folder
    return here


@dataclass(frozen=True)
class Workspace:
    root: Path
    _tracking_uri: str | None = field(default=None, repr=False)

    @classmethod
    def find(
        cls, start: str | os.PathLike[str] | None = None, tracking_uri: str | None = None
    ) -> Workspace:
        env_root = environment_settings().workspace
        root = env_root.resolve() if env_root and start is None else find_root(start)
        return cls(root=root, _tracking_uri=tracking_uri)

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @cached_property
    def config(self) -> dict[str, Any]:
        """The raw mapping of mlops.yaml ({} when absent); the pipeline layer validates it."""
        if not self.config_path.is_file():
            return {}

        return load_yaml_mapping(self.config_path)

    @cached_property
    def settings(self) -> Settings:
        """The project's ``MLOPS_*`` settings: environment, then mlops.yaml, then defaults."""
        return Settings(self.config, self.config_path if self.config else None)

    @property
    def name(self) -> str:
        return str(self.config.get("project") or self.root.name or "project")

    @property
    def default_experiment(self) -> str:
        return self.settings.experiment or self.name

    @property
    def untracked_calls(self) -> str:
        """``untracked_calls:`` of mlops.yaml: ``warn`` (the default) or ``start_run``."""
        value = self.config.get("untracked_calls") or "warn"
        if value not in ("warn", "start_run"):
            raise ConfigError(
                f"{self.config_path}: untracked_calls is {value!r}",
                hint="use warn (the default) or start_run",
            )
        return str(value)

    @property
    def tracking_uri(self) -> str:
        uri = (
            self._tracking_uri
            or os.environ.get("MLFLOW_TRACKING_URI")
            or self.config.get("tracking_uri")
        )
        if uri:
            return str(uri)
        return f"sqlite:///{self.state_dir / 'mlflow.db'}"

    @property
    def is_embedded(self) -> bool:
        return self.tracking_uri.startswith("sqlite:///") and self.tracking_uri.endswith(
            str(self.state_dir / "mlflow.db")
        )

    @property
    def artifacts_dir(self) -> Path:
        return self.state_dir / "artifacts"

    def ensure_state_dir(self) -> Path:
        """Create .mlops/ with a .gitignore so it never lands in git by accident."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        ignore = self.state_dir / ".gitignore"
        if not ignore.exists():
            ignore.write_text("*\n")
        return self.state_dir

    def subdir(self, name: str) -> Path:
        path = self.ensure_state_dir() / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def contains(self, path: str | os.PathLike[str]) -> bool:
        """True when ``path`` resolves inside the workspace root (guards hostile paths)."""
        try:
            Path(path).resolve().relative_to(self.root)
        except ValueError:
            return False
        return True
