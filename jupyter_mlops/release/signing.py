"""Signed models: a registered version's files are signed at registration and verified before
anything loads them (the router and every replica, ``package``, the release gates, the
monitor's reference predictions, ``score``) and before a release action names them (promote,
``deploy``).

Signing uses OpenSSF's ``model-signing`` with an elliptic-curve key (P-256/384/521, PEM): the
files of the logged model are hashed (SHA-256 each) into a manifest, the manifest is signed as an
in-toto statement in a DSSE envelope, and the resulting Sigstore bundle is kept *beside the model
files* in the artifact store, as ``mlops-model.sig`` in the logged model's folder (the manifest
names that file as ignored, so it does not sign itself). The version's tags say who signed and
with which key (``mlops.signed_by``, ``mlops.signature``), and so does the register entry of the
release history.

Configuration, in mlops.yaml (or, for a team, the environment)::

    release:
      signing:
        key: keys/release.pem            # the private key (or env:VAR holding a path or PEM)
        public_key: keys/release.pub     # what verifiers need (derived from key when absent)
        password: env:RELEASE_KEY_PASSWORD   # for an encrypted private key
        allow_unsigned: false            # true: versions registered before signing still load

``MLOPS_SIGNING_KEY`` / ``MLOPS_SIGNING_PUBLIC_KEY`` name the keys when mlops.yaml does not.

Policy: with no key configured nothing is signed and nothing is verified. With a public key
(or a private key) configured, every version must carry a valid signature before it loads; a
version registered before signing was configured is refused as unsigned unless
``allow_unsigned: true``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import IntegrityError
from ..tags import SIGNATURE_TAG
from .registration import StoreLocation, get_version, model_dir, version_location
from .signing_keys import SIGNATURE_FILE, SigningConfig, signing_config, verify_folder

if TYPE_CHECKING:
    from mlflow.entities.model_registry import ModelVersion

    from ..store.gateway import Gateway

__all__ = [
    "SIGNATURE_FILE",
    "CheckedVersion",
    "VerifiedVersion",
    "check_version",
    "discard",
    "verified_files",
    "verify_version",
]


@dataclass(frozen=True)
class CheckedVersion:
    name: str
    version: str
    key_id: str | None  # None: signing is not configured (or the version may stay unsigned)


@dataclass(frozen=True)
class VerifiedVersion(CheckedVersion):
    folder: Path  # the checked files, ready to load
    fetched_into: Path | None = None  # the download's own folder, for the caller to remove


def verify_version(gw: Gateway, name: str, version: str | int) -> VerifiedVersion:
    """Check a registered version's files against their signature before anything loads them,
    and hand over the checked files.

    Raises IntegrityError naming the file that changed (or that the version is unsigned while
    signing is configured). With no key configured, nothing is checked."""
    mv = get_version(gw, name, version)
    cfg = _config_for(gw, mv)
    if cfg is None:
        return VerifiedVersion(name, str(mv.version), None, model_dir(gw, mv))
    return _verified(gw, mv, cfg, version_location(gw, mv))


def discard(checked: VerifiedVersion) -> None:
    """Remove the download made to check ``checked`` (files read in place stay)."""
    if checked.fetched_into is not None:
        shutil.rmtree(checked.fetched_into, ignore_errors=True)


@contextmanager
def verified_files(gw: Gateway, name: str, version: str | int) -> Iterator[VerifiedVersion]:
    """``verify_version`` for a caller done with the files when the block ends (``package``,
    the release gates): a download made to check them is removed then."""
    checked = verify_version(gw, name, version)
    try:
        yield checked
    finally:
        discard(checked)


def check_version(gw: Gateway, name: str, version: str | int) -> CheckedVersion:
    """The same checks for an action that loads nothing (promote, deploy, ``verify``): the files
    are in this workspace's store, and match their signature. They are fetched only when there
    is a signature to check, and removed afterwards; an embedded store's are read in place."""
    mv = get_version(gw, name, version)
    loc = version_location(gw, mv)  # InvalidInput for files outside the store
    cfg = _config_for(gw, mv)
    if cfg is None:
        return CheckedVersion(name, str(mv.version), None)
    checked = _verified(gw, mv, cfg, loc)
    discard(checked)
    return CheckedVersion(name, str(mv.version), checked.key_id)


def _verified(
    gw: Gateway, mv: ModelVersion, cfg: SigningConfig, loc: StoreLocation
) -> VerifiedVersion:
    """The version's files checked where they are, or in a fresh download (no stale file of an
    earlier one is checked) that is removed again when the check fails."""
    folder, into = loc.local_path, None
    try:
        if folder is None:
            into = Path(tempfile.mkdtemp(dir=gw.ws.subdir("serving")))
            folder = gw.download(loc.uri, into)
        kid = verify_folder(cfg, folder, _what(mv))
    except BaseException:  # refused or cut short: nothing unchecked stays behind
        if into is not None:
            shutil.rmtree(into, ignore_errors=True)
        raise
    return VerifiedVersion(str(mv.name), str(mv.version), kid, folder, into)


def _what(mv: ModelVersion) -> str:
    return f"model {mv.name} version {mv.version}"


def _config_for(gw: Gateway, mv: ModelVersion) -> SigningConfig | None:
    """The signing configuration that applies to ``mv``: None when nothing is to be checked
    (no key configured, or an unsigned version that ``allow_unsigned`` lets through)."""
    cfg = signing_config(gw.ws)
    if cfg is None or not cfg.verifies:
        return None
    if not mv.tags.get(SIGNATURE_TAG):
        if cfg.allow_unsigned:
            return None
        raise IntegrityError(
            f"{_what(mv)} is not signed (registered before signing was configured)",
            hint="register it again from its run, or set release.signing.allow_unsigned: true",
        )
    return cfg
