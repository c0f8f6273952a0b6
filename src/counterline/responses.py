"""JSON answers serialised once, by pydantic, straight from the model."""

from __future__ import annotations

from pydantic import BaseModel
from starlette.responses import Response


def json_of(model: BaseModel, status_code: int = 200) -> Response:
    """The model as a JSON response. Routes that return this declare ``response_model`` for
    the API schema; FastAPI then neither re-validates nor re-encodes what they built."""
    return Response(model.model_dump_json(), status_code, media_type="application/json")
