"""ASGI entry for uvicorn: ``uvicorn --factory counterline.asgi:build``."""

from __future__ import annotations

from fastapi import FastAPI

from counterline.app import create_app
from counterline.config import load_settings


def build() -> FastAPI:
    return create_app(load_settings())
