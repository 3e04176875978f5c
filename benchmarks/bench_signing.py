"""Signing and verifying a 100 MB model (OpenSSF model-signing, a P-256 key), against reading
and hashing the same files with SHA-256, measured in the same run.

    .venv/bin/python benchmarks/bench_signing.py [--quick]

The model folder holds an MLmodel file, a 100 MB ``model.pkl`` of random bytes and a small
requirements file, as a registered scikit-learn model's folder does. ``--quick``: best of 2
instead of best of 5.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jupyter_mlops.release.signing_keys import (
    SIGNATURE_FILE,
    SigningConfig,
    sign_folder,
    verify_folder,
)

MB = 1024 * 1024


def best_of(func, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def make_model(folder: Path, size: int) -> None:
    folder.mkdir(parents=True)
    (folder / "MLmodel").write_text(
        "flavors:\n  python_function: {loader_module: mlflow.sklearn}\n"
    )
    (folder / "requirements.txt").write_text("scikit-learn\n")
    with open(folder / "model.pkl", "wb") as out:
        for _ in range(size // MB):
            out.write(os.urandom(MB))


def make_key(folder: Path) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    path = folder / "release.pem"
    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def sha256_files(folder: Path) -> None:
    for path in sorted(folder.iterdir()):
        if path.name != SIGNATURE_FILE:
            digest = hashlib.sha256()
            with open(path, "rb") as handle:
                while chunk := handle.read(MB):
                    digest.update(chunk)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="best of 2 instead of 5")
    opts = parser.parse_args()
    repeat = 2 if opts.quick else 5
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "model"
        make_model(folder, 100 * MB)
        cfg = SigningConfig(str(make_key(Path(tmp))), None, None, False, "benchmark")
        signature = folder / SIGNATURE_FILE
        base = best_of(lambda: sha256_files(folder), repeat)
        sign = best_of(lambda: sign_folder(cfg, folder, signature), repeat)
        verify = best_of(lambda: verify_folder(cfg, folder, "model"), repeat)
        size = sum(p.stat().st_size for p in folder.iterdir() if p.name != SIGNATURE_FILE) / MB
        sig_bytes = signature.stat().st_size

    print(f"signing benchmark: a {size:.0f} MB model folder (3 files), P-256 key, best of {repeat}")
    print(f"{'measure':<44}{'time':>10}{'ratio to baseline':>22}")
    for name, value in (
        ("baseline: sha256 of the files", base),
        ("sign (model-signing, at registration)", sign),
        ("verify (before a version loads)", verify),
    ):
        print(f"{name:<44}{value * 1000:>7.0f} ms{value / base:>21.2f}x")
    print(f"{'throughput of verify':<44}{size / verify:>7.0f} MB/s")
    print(f"{'signature file':<44}{sig_bytes:>7d} B")


if __name__ == "__main__":
    main()
