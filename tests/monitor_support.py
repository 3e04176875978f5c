"""Synthetic prediction streams for the monitoring tests: undrifted, drifted, and bad records."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def training_frame(n: int = 5000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "income": rng.normal(50, 15, n),
            "city": rng.choice(["paris", "lyon", "nice"], n, p=[0.5, 0.3, 0.2]),
        }
    )


def stream(
    n_requests: int,
    *,
    t0: float,
    seed: int = 1,
    drift: bool = False,
    version: str = "1",
    alias: str = "champion",
    batch: int = 5,
    status: int = 200,
    latency_ms: float = 2.0,
    dt: float = 0.01,
) -> list[dict[str, Any]]:
    """Prediction-log records; ``drift`` shifts age by +2 sd and adds an unseen city."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n_requests):
        age = rng.normal(60 if drift else 40, 10, batch)
        cities = ["paris", "lyon", "nice", "oslo"] if drift else ["paris", "lyon", "nice"]
        probs = [0.3, 0.2, 0.2, 0.3] if drift else [0.5, 0.3, 0.2]
        out.append(
            {
                "ts": t0 + i * dt,
                "model": "churn",
                "version": version,
                "alias": alias,
                "request_id": f"r{seed}-{i}",
                "latency_ms": float(latency_ms * rng.uniform(0.8, 1.2)),
                "status": status,
                "inputs": {
                    "age": age.tolist(),
                    "income": rng.normal(50, 15, batch).tolist(),
                    "city": rng.choice(cities, batch, p=probs).tolist(),
                },
                "outputs": (age > 45).astype(int).tolist() if status == 200 else None,
                "error": None if status == 200 else "boom",
            }
        )
    return out
