"""Keys, signatures and the check of a folder of model files (OpenSSF ``model-signing``).

``signing.py`` says when models are signed and verified; this module does the work, and stands
below the registry (which signs at registration) so that neither imports the other.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, IntegrityError, InvalidInput
from ..settings import Settings
from ..tags import SIGNATURE_TAG, SIGNED_BY_TAG
from ..workspace import Workspace

if TYPE_CHECKING:
    from ..store.gateway import Gateway

SIGNATURE_FILE = "mlops-model.sig"
KEY_ENV = Settings.signing_key.env
SECTION_KEYS = ("key", "public_key", "password", "allow_unsigned")


@dataclass(frozen=True)
class SigningConfig:
    key: str | None  # a path, or PEM text
    public_key: str | None
    password: str | None
    allow_unsigned: bool
    source: str

    @property
    def verifies(self) -> bool:
        return bool(self.public_key or self.key)


@dataclass(frozen=True)
class Signature:
    signer: str
    key_id: str

    def tags(self) -> dict[str, str]:
        return {SIGNED_BY_TAG: self.signer, SIGNATURE_TAG: f"{SIGNATURE_FILE} {self.key_id}"}


# -- configuration ------------------------------------------------------------------------------
def _material(given: Any, where: str, ws: Workspace) -> str | None:
    """A key from ``env:VAR`` (a path or PEM text in the variable) or a path (relative to the
    project); None when absent."""
    if given in (None, ""):
        return None
    if not isinstance(given, str):
        raise ConfigError(f"must be a path or env:VAR, not {given!r}", path=where)
    value: str = given
    if value.startswith("env:"):
        found = os.environ.get(value[4:])
        if not found:
            raise InvalidInput(
                f"{where}: the environment variable {value[4:]} is not set",
                hint="set it to the key's path or its PEM text",
            )
        value = found
    if value.lstrip().startswith("-----BEGIN"):
        return value
    path = Path(value).expanduser()
    path = path if path.is_absolute() else ws.root / path
    if not path.is_file():
        raise InvalidInput(f"{where}: no key file {path}", hint="generate one: see the README")
    return str(path)


def signing_config(ws: Workspace) -> SigningConfig | None:
    """The workspace's signing keys, or None when signing is not configured."""
    release = ws.config.get("release") or {}
    section = release.get("signing") if isinstance(release, dict) else None
    where = f"{ws.config_path}: release.signing"
    if section is not None and not isinstance(section, dict):
        raise ConfigError("must be a mapping", path=str(ws.config_path), key="release.signing")
    section = dict(section or {})
    for key in section:
        if key not in SECTION_KEYS:
            close = difflib.get_close_matches(str(key), SECTION_KEYS, n=1)
            mean = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"unknown key{mean}",
                path=str(ws.config_path),
                key=f"release.signing.{key}",
                hint=f"known: {', '.join(SECTION_KEYS)}",
            )
    allow = section.get("allow_unsigned", False)
    if not isinstance(allow, bool):
        raise ConfigError(
            "must be true or false", path=str(ws.config_path), key="release.signing.allow_unsigned"
        )
    key = _material(section.get("key") or ws.settings.signing_key, f"{where}.key", ws)
    public = _material(
        section.get("public_key") or ws.settings.signing_public_key, f"{where}.public_key", ws
    )
    password = _material_text(section.get("password"), f"{where}.password")
    if key is None and public is None:
        return None
    return SigningConfig(key, public, password, allow, str(ws.config_path))


def _material_text(value: Any, where: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not value.startswith("env:"):
        raise InvalidInput(
            f"{where}: must be env:VAR", hint="never write a password into mlops.yaml"
        )
    found = os.environ.get(value[4:])
    if found is None:
        raise InvalidInput(f"{where}: the environment variable {value[4:]} is not set")
    return found


@contextmanager
def _key_file(material: str) -> Iterator[Path]:
    """A path to the key (model-signing reads keys from files): the file itself, or a private
    temporary copy of PEM text removed right after."""
    if not material.lstrip().startswith("-----BEGIN"):
        yield Path(material)
        return
    fd, name = tempfile.mkstemp(prefix="mlops-key-", suffix=".pem")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(material)
        yield Path(name)
    finally:
        os.unlink(name)


def _public_pem(cfg: SigningConfig) -> bytes:
    from cryptography.hazmat.primitives import serialization

    if cfg.public_key:
        with _key_file(cfg.public_key) as path:
            return path.read_bytes()
    assert cfg.key is not None
    with _key_file(cfg.key) as path:
        private = serialization.load_pem_private_key(
            path.read_bytes(), cfg.password.encode() if cfg.password else None
        )
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(public_pem: bytes) -> str:
    """A short, stable name of a public key: ``sha256:<16 hex>`` of its PEM."""
    return "sha256:" + hashlib.sha256(public_pem.strip()).hexdigest()[:16]


# -- signing ------------------------------------------------------------------------------------
def sign_folder(cfg: SigningConfig, folder: Path, signature_path: Path) -> str:
    """Sign every file of ``folder`` into ``signature_path``; the key id."""
    from model_signing import hashing, signing

    if cfg.key is None:
        raise InvalidInput(
            "signing is configured with a public key only: registering needs the private key",
            hint=f"set release.signing.key in mlops.yaml or {KEY_ENV}",
        )
    hashing_config = hashing.Config().set_ignored_paths(paths=[SIGNATURE_FILE])
    with _key_file(cfg.key) as key:
        try:
            signing.Config().use_elliptic_key_signer(
                private_key=key, password=cfg.password
            ).set_hashing_config(hashing_config).sign(folder, signature_path)
        except (ValueError, TypeError) as exc:
            raise InvalidInput(
                f"cannot sign with the key of {cfg.source}: {exc}",
                hint="an elliptic-curve private key (P-256, P-384 or P-521) in PEM",
            ) from None
    return key_id(_public_pem(cfg))


def sign_logged_model(
    gw: Gateway, model_id: str, uri: str, local_path: Path | None, signer: str
) -> Signature | None:
    """Sign a logged model's files (at ``local_path``, or downloaded from ``uri``) and keep the
    signature beside them in the artifact store; None when no signing key is configured."""
    cfg = signing_config(gw.ws)
    if cfg is None:
        return None
    with tempfile.TemporaryDirectory(prefix="mlops-sign-") as tmp:
        folder = local_path or gw.download(uri, Path(tmp) / "model")
        signature = Path(tmp) / SIGNATURE_FILE
        kid = sign_folder(cfg, folder, signature)
        gw.client.log_model_artifact(model_id, str(signature))
    return Signature(signer, kid)


# -- verification -------------------------------------------------------------------------------
# model-signing's mismatch message is the repr of a list of lines (quotes may come escaped)
_CHANGED = re.compile(r"Hash mismatch for \\?'([^'\\]+)\\?'")
_ADDED = re.compile(r"Extra files found in model \\?'[^'\\]*\\?': ([^'\"\\\]]+)")
_MISSING = re.compile(r"Missing files in model \\?'[^'\\]*\\?': ([^'\"\\\]]+)")


BUNDLE_PARTS = {"mediaType", "verificationMaterial", "dsseEnvelope"}
_UNPARSABLE = (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError)


def _what_differs(message: str) -> str:
    parts = []
    changed = _CHANGED.findall(message)
    if changed:
        parts.append(f"{', '.join(changed)} changed")
    for regex, what in ((_ADDED, "added"), (_MISSING, "missing")):
        for found in regex.findall(message):
            parts.append(f"{found.strip()} {what}")
    if "Key mismatch" in message:
        parts.append(f"{SIGNATURE_FILE} was made with another key")
    return "; ".join(parts) or message.splitlines()[0][:300]


def _is_bundle(signature: Path) -> bool:
    """Whether the file reads as a Sigstore bundle (JSON with its three parts), so that a
    damaged one is named as such rather than by the parser that trips over it."""
    try:
        bundle = json.loads(signature.read_bytes().decode("utf-8"))
    except (OSError, ValueError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return False
    return isinstance(bundle, dict) and set(bundle) >= BUNDLE_PARTS


def verify_folder(cfg: SigningConfig, folder: Path, what: str) -> str:
    """Check ``folder`` against its signature; the key id, or IntegrityError naming the file."""
    from cryptography.exceptions import InvalidSignature
    from model_signing import verifying
    from pydantic import ValidationError  # sigstore-models' parse of the bundle

    signature = folder / SIGNATURE_FILE
    if not signature.is_file():
        raise IntegrityError(
            f"{what} has no {SIGNATURE_FILE} beside its files",
            hint="it was removed from the artifact store, or the version was never signed",
        )
    damaged = IntegrityError(
        f"{what}: {SIGNATURE_FILE} is damaged (it is not a signature bundle)",
        hint="do not serve it; register the model again from its run",
    )
    if not _is_bundle(signature):
        raise damaged
    public_pem = _public_pem(cfg)
    with tempfile.TemporaryDirectory(prefix="mlops-verify-") as tmp:
        public = Path(tmp) / "public.pem"
        public.write_bytes(public_pem)
        try:
            verifying.Config().use_elliptic_key_verifier(public_key=public).verify(
                folder, signature
            )
        except (*_UNPARSABLE, ValidationError):
            raise damaged from None  # a bundle in form only: its parts do not parse
        except InvalidSignature:
            raise IntegrityError(
                f"{what}: {SIGNATURE_FILE} does not verify (the signature itself was changed)",
                hint="do not serve it; register the model again from its run",
            ) from None
        except ValueError as exc:
            raise IntegrityError(
                f"{what}: {_what_differs(str(exc))} since it was signed",
                hint="do not serve it; register the model again from its run",
            ) from None
    return key_id(public_pem)
