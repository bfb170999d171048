"""The clinic API v1: JSON over HTTPS, scoped to the clinic of the bearer API key."""

from service.api import lifecycle as _lifecycle  # noqa: F401  (registers its routes)
from service.api.routes import api

__all__ = ["api"]
