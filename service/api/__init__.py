"""The clinic API v1: JSON over HTTPS, scoped to the clinic of the bearer API key."""

from service.api import lifecycle as _lifecycle  # noqa: F401  (registers its routes)
from service.api import operations
from service.api.admin import admin
from service.api.routes import api

__all__ = ["admin", "api", "operations"]
