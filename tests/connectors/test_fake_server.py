"""Serving an ASGI app on loopback for integration tests, benchmarks and the demo."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from connectors.fake.server import serve_in_thread


def test_serves_on_a_free_port_and_stops() -> None:
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"pong": "yes"}

    with serve_in_thread(app) as base, serve_in_thread(app) as other:
        assert base != other
        assert httpx.get(f"{base}/ping").json() == {"pong": "yes"}
    try:
        httpx.get(f"{base}/ping", timeout=1)
        raise AssertionError("server still answering after the block")
    except httpx.TransportError:
        pass
