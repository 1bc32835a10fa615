"""The OpenAPI document says every status an operation can answer, and times as times.

Litestar documents only an operation's success and its validation 400; every refusal here is
the same JSON shape (`status_code`, `code`, `detail`), so it is added once, to every operation,
for the statuses the service's layers can give: login and roles (401, 403), lookups (404),
rules (409, 422), the API's body limits on writes (413, 415), login back-off (429), and a
database that cannot be reached (503 on /health). A time of day is a string such as "10:15:00"
(Litestar calls it a duration).
"""

from __future__ import annotations

from datetime import time
from typing import Any

from litestar import Litestar
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    OpenAPIResponse,
    Reference,
    Schema,
)
from litestar.openapi.spec.enums import OpenAPIType
from litestar.plugins import OpenAPISchemaPlugin
from litestar.typing import FieldDefinition

REFUSAL = "Refusal"
TIME_OF_DAY = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$"
EVERY_OPERATION = {
    400: "The request is not valid (a parameter or field is missing or malformed).",
    401: "Not logged in, or the session has ended.",
    403: "Logged in, but this account may not do this (or the request came from another site).",
    404: "Nothing with that id within your scope.",
}
WRITES = {
    409: "A rule refused it (cutoff, sold out, already done) or it clashed with a change.",
    413: "The request body is too large.",
    415: "The request body is not JSON.",
    422: "A value is out of range or inconsistent.",
    429: "Too many login attempts: wait the seconds given and try again.",
}
READS_WITH_RULES = {422: WRITES[422], 409: WRITES[409]}
HEALTH_DOWN = {503: "The database cannot be reached."}
REPLAYABLE = frozenset({"/api/v1/bookings"})


class TimeOfDaySchema(OpenAPISchemaPlugin):
    """`datetime.time` as the string msgspec writes ("10:15:00"), not a duration."""

    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        return value is time

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        return Schema(type=OpenAPIType.STRING, pattern=TIME_OF_DAY, examples=["10:15:00"])


def _refusal_schema() -> Schema:
    return Schema(
        type=OpenAPIType.OBJECT,
        required=["status_code", "detail"],
        properties={
            "status_code": Schema(type=OpenAPIType.INTEGER),
            "code": Schema(type=OpenAPIType.STRING),
            "detail": Schema(),
            "extra": Schema(),
        },
    )


def document_refusals(app: Litestar) -> None:
    """Add the refusals to the app's OpenAPI document (call once, before it is first served)."""
    schema = app.openapi_schema
    components = schema.components or Components()
    components.schemas = {**(components.schemas or {}), REFUSAL: _refusal_schema()}
    schema.components = components
    content = {
        "application/json": OpenAPIMediaType(schema=Reference(f"#/components/schemas/{REFUSAL}"))
    }
    for path, item in (schema.paths or {}).items():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method, None)
            if operation is None:
                continue
            statuses = dict(EVERY_OPERATION)
            statuses.update(WRITES if method != "get" else READS_WITH_RULES)
            if path == "/health":
                statuses.update(HEALTH_DOWN)
            responses = dict(operation.responses or {})
            if "201" in responses and path in REPLAYABLE:
                responses["200"] = OpenAPIResponse(
                    description="The first answer to a repeated Idempotency-Key.",
                    content=responses["201"].content,
                )
            operation.responses = responses
            for status, description in statuses.items():
                responses.setdefault(
                    str(status), OpenAPIResponse(description=description, content=content)
                )
