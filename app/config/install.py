"""Where this installation keeps the files that are not Python: the page and report
templates and the database migrations.

A wheel carries them inside the package (``app/_bundled/``, read through
``importlib.resources``); a checkout keeps them at the top of the source tree, where they
are edited. The container image copies them beside its working directory.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import app

BUNDLED = "_bundled"


def resource_path(name: str) -> Path:
    """The installed ``templates``, ``alembic`` or ``alembic.ini``: bundled in the package,
    else at the top of the source tree, else in the working directory."""
    bundled = resources.files(app) / BUNDLED / name
    candidates = [Path(str(bundled)), Path(app.__file__).resolve().parents[1] / name]
    candidates.append(Path.cwd() / name)
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise FileNotFoundError(
        f"{name} is not installed (looked in {', '.join(str(c) for c in candidates)})"
    )
