"""PyTorch modules and Keras models, where those libraries are installed, saved with
``mlflow.pytorch`` and ``mlflow.keras``.

Neither keeps its training data, nor a flag saying it was trained: a module counts as fitted once
its parameters changed in place (PyTorch's version counters, which every optimizer step bumps),
a Keras model once its optimizer took a step. The input example is a batch found in the
namespace whose trailing size matches the first layer, else zeros of that shape, and the
signature comes from running the model on it (a traced example batch).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .protocol import FeatureHint


class TorchFlavor:
    name = "pytorch"
    library = "torch"
    requirements: tuple[str, ...] = ("torch", "numpy", "pandas", "cloudpickle")

    def recognises(self, obj: Any) -> bool:
        import torch

        return isinstance(obj, torch.nn.Module)

    def fitted(self, obj: Any) -> Any:
        steps = sum(int(p._version) for p in obj.parameters())
        return (id(obj), steps) if steps else None

    def params(self, obj: Any) -> dict[str, Any]:
        return {
            "module": type(obj).__name__,
            "n_parameters": sum(int(p.numel()) for p in obj.parameters()),
        }

    def features(self, obj: Any) -> FeatureHint:
        first = next(obj.parameters(), None)
        n_in = None
        for layer in obj.modules():
            n_in = getattr(layer, "in_features", None)
            if n_in is not None:
                break
        dtype = str(first.dtype).replace("torch.", "") if first is not None else None
        return FeatureHint(n_features=n_in, dtype=dtype)

    def predict(self, obj: Any, data: Any) -> Any:
        import numpy as np
        import torch

        first = next(obj.parameters(), None)
        dtype = first.dtype if first is not None else torch.float32
        values = data.to_numpy() if hasattr(data, "to_numpy") else np.asarray(data)
        was_training = obj.training
        obj.eval()
        try:
            with torch.no_grad():
                out = obj(torch.as_tensor(values, dtype=dtype))
        finally:
            obj.train(was_training)
        return out.detach().cpu().numpy()

    def save(
        self, obj: Any, path: Path, *, signature: Any, input_example: Any, requirements: list[str]
    ) -> None:
        import mlflow.pytorch

        mlflow.pytorch.save_model(
            obj,
            str(path),
            signature=signature,
            input_example=input_example,
            pip_requirements=requirements,
        )


class KerasFlavor:
    name = "keras"
    library = "keras"
    requirements: tuple[str, ...] = ("keras", "numpy", "pandas")

    def recognises(self, obj: Any) -> bool:
        import keras

        return isinstance(obj, keras.Model)

    def fitted(self, obj: Any) -> Any:
        optimizer = getattr(obj, "optimizer", None)
        steps = int(optimizer.iterations.numpy()) if optimizer is not None else 0
        return (id(obj), steps) if steps else None

    def params(self, obj: Any) -> dict[str, Any]:
        found: dict[str, Any] = {"model": type(obj).__name__, "n_parameters": obj.count_params()}
        optimizer = getattr(obj, "optimizer", None)
        if optimizer is not None:
            config = optimizer.get_config()
            found.update({f"optimizer.{k}": v for k, v in config.items() if _simple(v)})
        return found

    def features(self, obj: Any) -> FeatureHint:
        shape = getattr(obj, "input_shape", None)
        n_in = shape[-1] if isinstance(shape, tuple) and shape else None
        return FeatureHint(n_features=n_in if isinstance(n_in, int) else None, dtype="float32")

    def predict(self, obj: Any, data: Any) -> Any:
        import numpy as np

        values = data.to_numpy() if hasattr(data, "to_numpy") else np.asarray(data)
        return obj.predict(values, verbose=0)

    def save(
        self, obj: Any, path: Path, *, signature: Any, input_example: Any, requirements: list[str]
    ) -> None:
        import mlflow.keras

        path.mkdir(
            parents=True, exist_ok=True
        )  # mlflow.keras writes its example before creating it
        mlflow.keras.save_model(
            obj,
            str(path),
            signature=signature,
            input_example=input_example,
            pip_requirements=requirements,
        )


def _simple(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))
