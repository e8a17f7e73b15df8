"""Errors the queue engine raises: a stable ``code``, an HTTP status and details."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A business rule refused the action. ``code`` is stable and documented."""

    status = 409

    def __init__(self, code: str, status: int | None = None, **details: Any) -> None:
        super().__init__(code)
        self.code = code
        if status is not None:
            self.status = status
        self.details = details


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403
