"""Errors that services raise and pages show: a stable code for the API, a Chinese message for people."""

from __future__ import annotations


class ContestError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or []


class NotFound(ContestError):
    status_code = 404
    code = "not_found"


class Invalid(ContestError):
    status_code = 422
    code = "invalid"


class Conflict(ContestError):
    status_code = 409
    code = "conflict"
