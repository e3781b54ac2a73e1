"""Post-processing of the OpenAPI description (/api/schema/), registered in SPECTACULAR_SETTINGS."""
from __future__ import annotations

import copy

UNSUPPORTED_BODY = {
    "description": "A body in a format this operation doesn't read.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def document_unsupported_bodies(result, generator, request, public):
    """Every operation that reads a body answers 415 {"detail"} to a body of a type none of its parsers reads
    (DRF raises UnsupportedMediaType when the view reads `request.data`). Views declare their own answers;
    this adds the 415 to those that take a body and didn't say so (tests/security/test_api_schema_bodies.py)."""
    for item in result.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation.setdefault("responses", {}).setdefault("415", copy.deepcopy(UNSUPPORTED_BODY))
    return result
