"""Rendering pages: the shared Jinja environment (``app.render.templates``), the
stylesheet, and ``Renderer.page``."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from app.render import templates
from app.render.style import CHART_CSS


class Stylesheet:
    """The one stylesheet: the site's rules followed by the charts' (served by the app)."""

    def __init__(self, directory: Path) -> None:
        self.body = (directory / "static" / "throughline.css").read_text(encoding="utf-8")
        self.body += CHART_CSS
        self.version = hashlib.sha256(self.body.encode()).hexdigest()[:10]


class Renderer:
    """Templates and the stylesheet, loaded once when the app is built."""

    def __init__(self) -> None:
        environment = templates.html()
        self.stylesheet = Stylesheet(templates.templates_dir())
        environment.globals["stylesheet_version"] = self.stylesheet.version
        self.templates = Jinja2Templates(env=environment)

    def page(
        self,
        request: Request,
        name: str,
        context: dict[str, Any],
        *,
        status_code: int = 200,
    ) -> HTMLResponse:
        """A page from its template and a small explicit context."""
        response = self.templates.TemplateResponse(
            request=request, name=name, context=context, status_code=status_code
        )
        response.headers["Cache-Control"] = "private, no-store"
        return response

    def parts(self, name: str, context: dict[str, Any]) -> dict[str, Markup]:
        """Each block of a template rendered alone (with the macros as ``m``): the parts
        of a page that depend on a stored document only, to be kept with it."""
        environment = self.templates.env
        template = environment.get_template(name)
        macros = environment.get_template("macros.html").module
        found = {}
        for block, render in template.blocks.items():
            scope = template.new_context({**context, "m": macros})
            found[block] = Markup("".join(render(scope)))  # noqa: S704 (rendered, escaped)
        return found
