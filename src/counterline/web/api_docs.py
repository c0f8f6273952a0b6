"""The API reference at /api/v1/docs: app.openapi() rendered on the server, no scripts.

The page is built from the same OpenAPI document as /api/v1/openapi.json, so it cannot drift
from the routes. The WebSocket stream, which OpenAPI does not describe, is documented from the
docstring of counterline.streams.endpoint.
"""

from __future__ import annotations

import inspect
import json
import re
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from counterline.accounts.guards import PUBLIC
from counterline.messages.rendering import render_body
from counterline.streams import endpoint as stream_endpoint
from counterline.web.templating import render

router = APIRouter(include_in_schema=False)
METHODS = ("get", "post", "put", "patch", "delete")
REF_PREFIX = "#/components/schemas/"


@dataclass(frozen=True)
class TypeText:
    """A schema shown as text, with the names of the component schemas it links to."""

    text: str
    refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Field:
    name: str
    where: str
    type: TypeText
    required: bool
    description_html: str


@dataclass(frozen=True)
class Reply:
    status: str
    description: str
    schema: TypeText | None


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    anchor: str
    summary: str
    description_html: str
    parameters: list[Field]
    request_body: TypeText | None
    responses: list[Reply]
    curl: str = ""


@dataclass
class Group:
    tag: str
    operations: list[Operation] = field(default_factory=list)


@dataclass(frozen=True)
class Schema:
    name: str
    description_html: str
    fields: list[Field]
    enum: list[str]


def describe(text: str | None) -> str:
    """Descriptions use the same Markdown subset and sanitiser as messages."""
    return render_body(text) if text else ""


def type_text(schema: dict[str, Any]) -> TypeText:
    if "$ref" in schema:
        name = schema["$ref"].removeprefix(REF_PREFIX)
        return TypeText(name, (name,))
    if "anyOf" in schema or "oneOf" in schema:
        parts = [type_text(part) for part in schema.get("anyOf", schema.get("oneOf", []))]
        refs = tuple(ref for part in parts for ref in part.refs)
        return TypeText(" | ".join(part.text for part in parts), refs)
    kind = schema.get("type", "any")
    if kind == "array":
        items = type_text(schema.get("items", {}))
        return TypeText(f"array[{items.text}]", items.refs)
    details = []
    if "format" in schema:
        details.append(schema["format"])
    if "enum" in schema:
        details.append(" / ".join(str(value) for value in schema["enum"]))
    for key, label in (("minLength", "≥"), ("minimum", "≥"), ("maxLength", "≤"), ("maximum", "≤")):
        if key in schema:
            details.append(f"{label}{schema[key]}")
    if "pattern" in schema:
        details.append(schema["pattern"])
    return TypeText(f"{kind} ({', '.join(details)})" if details else str(kind))


def anchor_of(method: str, path: str) -> str:
    return f"{method}-" + re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")


def body_schema(content: dict[str, Any] | None) -> TypeText | None:
    for media in (content or {}).values():
        if "schema" in media:
            return type_text(media["schema"])
    return None


# How a program calls an operation, shown with each (``curl_of``). The site's address and a
# token come from the shell: CL=https://chat.example TOKEN=cl_...
EXAMPLE_UUID = "6b1e0f0a-3c9d-4f6e-9a51-1d2c3b4a5e6f"
EXAMPLE_VALUES: dict[str, Any] = {"string": "…", "integer": 1, "number": 1, "boolean": False}
NO_TOKEN = {("POST", "/api/v1/session")}


def example_of(schema: dict[str, Any], components: dict[str, Any], name: str = "") -> Any:
    """A small value fitting ``schema``: the required fields and the text fields that may be
    empty (a message's body), with placeholder values."""
    if "$ref" in schema:
        schema = components.get(schema["$ref"].removeprefix(REF_PREFIX), {})
    if "anyOf" in schema or "oneOf" in schema:
        options = [
            s for s in schema.get("anyOf", schema.get("oneOf", [])) if s.get("type") != "null"
        ]
        return example_of(options[0], components, name) if options else None
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        required = schema.get("required", [])
        properties = schema.get("properties", {})
        shown = [k for k, s in properties.items() if k in required or s.get("default") == ""]
        return {key: example_of(properties[key], components, key) for key in shown}
    if kind == "array":
        return []
    if name == "client_id":
        return EXAMPLE_UUID
    return EXAMPLE_VALUES.get(str(kind), "…")


def curl_of(method: str, path: str, spec: dict[str, Any], components: dict[str, Any]) -> str:
    """A curl command calling the operation with a bearer token (or none, where the route
    takes none) and a body of its required fields."""
    url_path = re.sub(r"\{[^}]+\}", "1", path)
    required = [p for p in spec.get("parameters", []) if p.get("required") and p["in"] == "query"]
    if required:
        url_path += "?" + "&".join(f"{p['name']}=…" for p in required)
    parts = ["curl"]
    if method.upper() != "GET":
        parts.append(f"-X {method.upper()}")
    if path.startswith("/api/v1/") and (method.upper(), path) not in NO_TOKEN:
        parts.append('-H "Authorization: Bearer $TOKEN"')
    content = spec.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        body = example_of(content["application/json"].get("schema", {}), components)
        text = json.dumps(body, ensure_ascii=False).replace("'", "'\\''")
        parts.append(f"-H 'Content-Type: application/json' -d '{text}'")
    elif "multipart/form-data" in content:
        parts.append("-F 'file=@FILE'")
    parts.append(f'"$CL{url_path}"')
    return " ".join(parts)


def operation_of(
    method: str, path: str, spec: dict[str, Any], components: dict[str, Any] | None = None
) -> Operation:
    parameters = [
        Field(
            name=parameter["name"],
            where=parameter.get("in", ""),
            type=type_text(parameter.get("schema", {})),
            required=bool(parameter.get("required")),
            description_html=describe(
                parameter.get("description") or parameter.get("schema", {}).get("description")
            ),
        )
        for parameter in spec.get("parameters", [])
    ]
    responses = [
        Reply(status, reply.get("description", ""), body_schema(reply.get("content")))
        for status, reply in sorted(spec.get("responses", {}).items())
    ]
    return Operation(
        method=method.upper(),
        path=path,
        anchor=anchor_of(method, path),
        summary=spec.get("summary", ""),
        description_html=describe(spec.get("description")),
        parameters=parameters,
        request_body=body_schema(spec.get("requestBody", {}).get("content")),
        responses=responses,
        curl=curl_of(method, path, spec, components or {}),
    )


def groups_of(document: dict[str, Any]) -> list[Group]:
    groups: dict[str, Group] = {}
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method not in item:
                continue
            spec = item[method]
            tag = (spec.get("tags") or ["api"])[0]
            components = document.get("components", {}).get("schemas", {})
            groups.setdefault(tag, Group(tag)).operations.append(
                operation_of(method, path, spec, components)
            )
    return list(groups.values())


def schemas_of(document: dict[str, Any]) -> list[Schema]:
    schemas = []
    for name, spec in sorted(document.get("components", {}).get("schemas", {}).items()):
        required = set(spec.get("required", []))
        fields = [
            Field(
                name=field_name,
                where="",
                type=type_text(field_spec),
                required=field_name in required,
                description_html=describe(field_spec.get("description")),
            )
            for field_name, field_spec in spec.get("properties", {}).items()
        ]
        enum = [str(value) for value in spec.get("enum", [])]
        schemas.append(Schema(name, describe(spec.get("description")), fields, enum))
    return schemas


@router.get("/api/v1/docs", dependencies=[PUBLIC])
async def api_docs(request: Request) -> Response:
    document = request.app.openapi()
    info = document.get("info", {})
    return render(
        request,
        "web/api_docs.html",
        {
            "title": info.get("title", ""),
            "api_version": info.get("version", ""),
            "intro_html": describe(info.get("description")),
            "groups": groups_of(document),
            "schemas": schemas_of(document),
            "stream_doc": inspect.cleandoc(stream_endpoint.__doc__ or ""),
        },
    )
