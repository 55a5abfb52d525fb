"""Model catalog and resolution: every model is a named entry with an ordered list of sources."""
from dubkit.models.catalog import MODELS, ModelEntry, get_model
from dubkit.models.resolve import (
    ModelStatus,
    ResolvedModel,
    cache_dir,
    model_status,
    resolve_model,
)

__all__ = [
    "MODELS",
    "ModelEntry",
    "ModelStatus",
    "ResolvedModel",
    "cache_dir",
    "get_model",
    "model_status",
    "resolve_model",
]
