"""Signed models: registration signs a version's files (OpenSSF model-signing, an EC key named in
mlops.yaml), and nothing loads a version whose files changed since: promote, package, the gates
and every serving replica refuse it naming the file, and a replica keeps serving what it had."""

from __future__ import annotations

from pathlib import Path

import pytest
from release_support import make_data, registered

from jupyter_mlops.cli import main
from jupyter_mlops.errors import ConfigError, IntegrityError
from jupyter_mlops.release import history, rollout
from jupyter_mlops.release.package import package
from jupyter_mlops.release.registered_model import T_MODEL_ID
from jupyter_mlops.release.registration import get_version, version_location
from jupyter_mlops.release.signing import SIGNATURE_FILE, verify_version
from jupyter_mlops.serving.router import ModelRouter
from jupyter_mlops.store.client import client_for
from jupyter_mlops.store.gateway import gateway_for
from jupyter_mlops.tags import SIGNATURE_TAG, SIGNED_BY_TAG
from jupyter_mlops.workspace import Workspace


def _keys(folder: Path) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    private, public = folder / "release.pem", folder / "release.pub"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def _signing_workspace(ws: Workspace, signing: str) -> Workspace:
    (ws.root / "mlops.yaml").write_text(f"release:\n  signing: {signing}\n")
    return Workspace.find(ws.root)  # a fresh one: the old one cached mlops.yaml


def _model_file(ws: Workspace, store: str, request: pytest.FixtureRequest, version: str) -> Path:
    """The pickled model of ``version`` where the artifact store keeps it."""
    mv = get_version(gateway_for(ws), "churn", version)
    folder = version_location(gateway_for(ws), mv).local_path
    if folder is None:  # the team server's artifact folder
        artifacts = request.getfixturevalue("team_tracking").artifacts_dir
        model_id = mv.tags[T_MODEL_ID]
        folder = next(p for p in artifacts.rglob(model_id) if p.is_dir()) / "artifacts"
    return folder / "model.pkl"


def _serving_files(ws: Workspace) -> list[Path]:
    """What the workspace keeps of downloaded model files."""
    folder = ws.state_dir / "serving"
    return sorted(p.relative_to(folder) for p in folder.rglob("*")) if folder.exists() else []


@pytest.mark.team_only
def test_promote_fetches_no_model_files_where_no_signature_is_checked(workspace):
    registered(workspace, kinds=("good",))
    kept = _serving_files(workspace)
    rollout.promote(gateway_for(workspace), "churn", 1, "champion")
    assert main(["-C", str(workspace.root), "verify", "churn", "1"]) == 0
    assert _serving_files(workspace) == kept


def test_a_changed_file_is_refused_and_the_replica_keeps_serving(
    workspace, store, request, tmp_path, capsys
):
    _keys(workspace.root / "keys")
    ws = _signing_workspace(workspace, "{key: keys/release.pem}")
    df = registered(ws, kinds=("good", "good"))
    v2 = get_version(gateway_for(ws), "churn", 2)
    assert v2.tags[SIGNATURE_TAG].startswith(f"{SIGNATURE_FILE} sha256:") and v2.tags[SIGNED_BY_TAG]
    [register] = [e for e in history.events(gateway_for(ws), "churn") if e.action == "register"][
        -1:
    ]
    assert register.details["signed_by"] == v2.tags[SIGNED_BY_TAG]
    assert verify_version(gateway_for(ws), "churn", 2).key_id in v2.tags[SIGNATURE_TAG]

    kept = _serving_files(ws)
    rollout.promote(gateway_for(ws), "churn", 1, "champion")
    assert main(["-C", str(ws.root), "verify", "churn", "2"]) == 0
    package(gateway_for(ws), "churn", 1, tmp_path / "pkg-1")
    assert (tmp_path / "pkg-1" / "model" / "model.pkl").is_file()
    assert _serving_files(ws) == kept  # checked, and no copy of the files left behind
    before_router = kept
    router = ModelRouter(gateway_for(ws), "churn")
    router.refresh()
    assert router.table.champion.version == "1"
    rows = df.drop(columns=["label"]).head(3)

    model_file = _model_file(ws, store, request, "2")
    data = bytearray(model_file.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte changed in the artifact store
    model_file.write_bytes(bytes(data))

    kept = _serving_files(ws)  # the replica's copy of v1 among them
    with pytest.raises(IntegrityError, match=r"model churn version 2: model\.pkl changed"):
        rollout.promote(gateway_for(ws), "churn", 2, "champion")
    assert rollout.state(gateway_for(ws), "churn").aliases.get("champion") == "1"
    with pytest.raises(IntegrityError, match=r"model\.pkl"):
        package(gateway_for(ws), "churn", 2, tmp_path / "pkg")
    assert _serving_files(ws) == kept  # the refused files are not kept either
    capsys.readouterr()
    assert main(["-C", str(ws.root), "verify", "churn", "2"]) == IntegrityError.exit_code
    err = capsys.readouterr().err.strip().splitlines()
    assert "model churn version 2: model.pkl changed since it was signed" in err[0]
    assert len(err) == 2 and err[1].startswith("  hint:")  # the project's error + hint lines
    assert main(["-C", str(ws.root), "verify", "churn", "1"]) == 0

    # an alias moved around the release commands: the replica refuses to load, keeps v1
    client_for(ws).set_registered_model_alias("churn", "champion", "2")
    router.refresh()
    assert router.table.champion.version == "1"
    assert "model.pkl changed" in (router.last_error or "")
    assert len(router.table.champion.predict(rows)) == 3
    assert _serving_files(ws) == kept  # the refused download is gone, v1's copy serves
    router.stop()
    assert _serving_files(ws) == before_router  # and goes with the router


@pytest.mark.embedded_only
def test_unsigned_versions_and_the_signing_section(workspace):
    registered(workspace, kinds=("good",))  # before any key: not signed, nothing checked
    assert verify_version(gateway_for(workspace), "churn", 1).key_id is None
    _, public = _keys(workspace.root / "keys")
    ws = _signing_workspace(workspace, "{public_key: keys/release.pub}")
    with pytest.raises(IntegrityError, match="not signed"):
        verify_version(gateway_for(ws), "churn", 1)
    ws = _signing_workspace(workspace, "{public_key: keys/release.pub, allow_unsigned: true}")
    assert verify_version(gateway_for(ws), "churn", 1).key_id is None
    ws = _signing_workspace(workspace, "{kye: keys/release.pem}")
    with pytest.raises(
        ConfigError, match=r"release\.signing\.kye: unknown key \(did you mean 'key'\?\)"
    ):
        verify_version(gateway_for(ws), "churn", 1)
    ws = _signing_workspace(workspace, "{public_key: keys/release.pub}")
    from release_support import fit_model, log_model_run

    from jupyter_mlops.release.registration import register

    df = make_data()
    run_id, _ = log_model_run(ws, fit_model(df), df)
    with pytest.raises(Exception, match="needs the private key"):
        register(gateway_for(ws), run_id, "churn")
    assert [str(mv.version) for mv in client_for(ws).search_model_versions("name = 'churn'")] == [
        "1"
    ]


def _damaged(good: bytes, how: str) -> bytes:
    import json

    if how == "a byte flipped":
        data = bytearray(good)
        data[len(data) // 2] ^= 0xFF
        return bytes(data)
    if how == "cut short":
        return good[: len(good) // 2]
    if how == "emptied":
        return b""
    if how == "not a bundle":
        return b"{}"
    bundle = json.loads(good)
    bundle["dsseEnvelope"] = {"payload": 1}  # the right parts, one of them wrong inside
    return json.dumps(bundle).encode()


@pytest.mark.parametrize(
    "how", ["a byte flipped", "cut short", "emptied", "not a bundle", "a part malformed"]
)
def test_a_damaged_signature_file_is_named_as_damaged(tmp_path, how):
    from jupyter_mlops.release.signing_keys import SigningConfig, sign_folder, verify_folder

    private, public = _keys(tmp_path / "keys")
    cfg = SigningConfig(str(private), str(public), None, False, "mlops.yaml")
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.pkl").write_bytes(b"weights" * 100)
    signature = model / SIGNATURE_FILE
    sign_folder(cfg, model, signature)
    signature.write_bytes(_damaged(signature.read_bytes(), how))
    with pytest.raises(IntegrityError) as refused:
        verify_folder(cfg, model, "model churn version 1")
    assert refused.value.message == (
        f"model churn version 1: {SIGNATURE_FILE} is damaged (it is not a signature bundle)"
    )
