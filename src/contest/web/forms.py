"""What a refused form shows: what was typed, each message beside its field, all of them on top.

One mechanism for every organizer and finance form. A controller that catches a ContestError
re-renders its page with ``posted=refused(form_id, form, exc)``; the template asks
``form_for("new-competition")`` for the state of one form on the page (a page may hold several:
the competition's edit form and 新建赛项 both have a "name"), and the macros in
``templates/_form.html`` write ``value``, the ``invalid`` mark and the message beside the field.

Messages come from ``FormInvalid.fields`` (field name -> message); a plain ContestError (a
conflict, a state refusal) has no field and shows in the summary only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contest.errors import ContestError


@dataclass
class FormState:
    form_id: str = ""
    values: dict[str, str] = field(default_factory=dict)  # as typed, for the inputs
    lists: dict[str, list[str]] = field(default_factory=dict)  # repeated fields (criteria rows)
    field_errors: dict[str, str] = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)  # the message and every detail, for the top

    @property
    def posted(self) -> bool:
        return bool(self.form_id)

    def value(self, name: str, default: Any = "") -> Any:
        """What was typed in ``name`` after a refusal; else ``default`` (the stored value)."""
        if self.posted:
            return self.values.get(name, "")
        return "" if default is None else default

    def checked(self, name: str, default: bool = False) -> bool:
        if self.posted:
            return self.values.get(name, "") in ("1", "on", "true", "yes")
        return bool(default)

    def error(self, name: str) -> str:
        return self.field_errors.get(name, "")


EMPTY = FormState()

# What is shown again is bounded: a field is never longer than its maximum in domain/limits.py (the
# longest is 2,000), so 4,000 characters show a slightly-too-long text whole; megabytes posted by a
# script are not echoed back. Repeated fields (criteria rows) likewise.
MAX_ECHO_CHARS = 4000
MAX_ECHO_ROWS = 200


def typed_values(form: Any) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The submitted text fields (files and the CSRF token left out)."""
    values: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    if form is None:
        return values, lists
    keys = list(form.keys()) if hasattr(form, "keys") else []
    for key in keys:
        if key == "_csrf_token":
            continue
        found = form.getall(key, []) if hasattr(form, "getall") else [form.get(key)]
        texts = [v[:MAX_ECHO_CHARS] for v in found[:MAX_ECHO_ROWS] if isinstance(v, str)]
        if texts:
            values[key] = texts[0]
            lists[key] = texts
    return values, lists


def refused(form_id: str, form: Any, exc: ContestError, field: str = "") -> FormState:
    """What ``form_id`` shows after ``exc``. ``field``: the form's one field, for a refusal that
    names none (a one-field form: its message goes beside that field too)."""
    values, lists = typed_values(form)
    fields = dict(getattr(exc, "fields", {}) or {})
    if not fields and field:
        fields = {field: exc.message}
    return FormState(form_id, values, lists, fields, [exc.message, *exc.details])


def form_for(posted: FormState | None, form_id: str) -> FormState:
    """The state of ``form_id``: the refused one as posted, any other form as stored."""
    if posted is not None and posted.form_id == form_id:
        return posted
    return EMPTY
