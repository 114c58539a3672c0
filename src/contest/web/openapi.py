"""Describe the HTML forms a POST handler reads in the OpenAPI schema, so the API fuzz lane
(tests/security) generates real form bodies for them, with the declared maximum lengths.

Our pages post urlencoded forms read through ``request.form()`` (to answer every problem in
Chinese beside the field, instead of a framework's 400), so Litestar cannot infer the body:
``@post("/", **form_body(name=limits.UNIT_NAME, year=int))`` says it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from litestar.openapi.spec import OpenAPIFormat, OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema

from contest.domain.limits import TextField

FILE = "file"  # a multipart file field (an .xlsx upload)


def _schema(kind: Any) -> Schema:
    if isinstance(kind, TextField):
        return Schema(type=OpenAPIType.STRING, max_length=kind.max, description=kind.label)
    if kind is int:
        return Schema(type=OpenAPIType.STRING, pattern=r"^-?[0-9]{1,10}$", description="integer")
    if kind is Decimal:
        return Schema(type=OpenAPIType.STRING, pattern=r"^-?[0-9]{1,6}(\.[0-9]{1,2})?$", description="decimal")
    if kind is date:
        return Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE)
    if kind is bool:
        return Schema(type=OpenAPIType.STRING, enum=["1", ""])
    if kind == FILE:
        return Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
    if isinstance(kind, (list, tuple)):
        return Schema(type=OpenAPIType.STRING, enum=list(kind))
    raise TypeError(f"no schema for form field kind {kind!r}")


def form_body(**fields: Any) -> dict[str, Any]:
    """Handler keyword arguments that document the form ``fields`` (name -> TextField, int,
    Decimal, date, bool, FILE, or a list of allowed values)."""
    media_type = "multipart/form-data" if FILE in fields.values() else "application/x-www-form-urlencoded"
    body = RequestBody(
        required=True,
        content={
            media_type: OpenAPIMediaType(
                # Required as the pages send them; the fuzz lane's negative cases leave them out.
                schema=Schema(type=OpenAPIType.OBJECT, properties={n: _schema(k) for n, k in fields.items()}, required=list(fields))
            )
        },
    )

    @dataclass
    class FormOperation(Operation):
        form_fields = fields  # read by web.guards.parameter_guard to name a field in Chinese

        def __post_init__(self) -> None:
            self.request_body = body

    return {"operation_class": FormOperation}
