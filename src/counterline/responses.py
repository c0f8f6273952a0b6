"""JSON answers serialised once: by pydantic, straight from the model, or from plain data
already in a model's JSON shape."""

from __future__ import annotations

import json

from pydantic import BaseModel
from starlette.responses import Response


def json_of(model: BaseModel, status_code: int = 200) -> Response:
    """The model as a JSON response. Routes that return this declare ``response_model`` for
    the API schema; FastAPI then neither re-validates nor re-encodes what they built."""
    return Response(model.model_dump_json(), status_code, media_type="application/json")


def json_of_plain(data: object, status_code: int = 200) -> Response:
    """Plain data (dicts, lists, strings, numbers) already in the JSON shape of the route's
    ``response_model``, for hot routes where building models costs more than the query."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status_code, media_type="application/json")
