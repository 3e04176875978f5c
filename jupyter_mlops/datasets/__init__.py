"""Dataset versions: content fingerprints, verified snapshots kept in MLflow, capture and diffs.

``fingerprint(obj)`` identifies data by content; ``log_dataset`` stores a version (once per
digest) and logs it as an MLflow dataset input; ``load_dataset("name@version")`` gives it back,
verified, on any machine that shares the tracking server.
"""
