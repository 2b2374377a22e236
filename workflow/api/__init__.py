"""The JSON API under /api/v1, on the same services as the web pages.

Other tools are built on these paths: keep them stable. Each module registers its routes on
the blueprint of ``blueprint.py``; importing them here is what puts them on it.
"""

from __future__ import annotations

from . import (  # noqa: F401  (routes register on bp)
    admin_api,
    audit,
    circulation,
    memos,
    openapi,
    routes,
    tokens,
    verify,
)
from .blueprint import bp

__all__ = ["bp"]
