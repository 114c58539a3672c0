"""Errors that services raise and pages show: a stable code for the API, a Chinese message for people."""

from __future__ import annotations


class ContestError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, details: list[str] | None = None, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or []
        # A refusal about one field of the form that was posted (``field``: its name in the form)
        # shows beside that field as well as on top (contest.web.forms); FormInvalid names several.
        self.fields: dict[str, str] = {field: message} if field else {}


class NotFound(ContestError):
    status_code = 404
    code = "not_found"


class Invalid(ContestError):
    status_code = 422
    code = "invalid"


class Conflict(ContestError):
    status_code = 409
    code = "conflict"


class FormInvalid(Invalid):
    """Bad form input, field by field: ``fields`` maps a form field's name (as the form names it)
    to its message; the page shows each beside its field and all of them in the summary at the top
    (contest.web.forms)."""

    def __init__(self, message: str, fields: dict[str, str], details: list[str] | None = None) -> None:
        super().__init__(message, details=[*fields.values(), *(details or [])])
        self.fields = fields


class FormConflict(FormInvalid):
    """A form's value clashes with what is stored (a name already taken): 409, beside the field."""

    status_code = 409
    code = "conflict"
