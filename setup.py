"""Bundles the templates and the migrations into the wheel (``app/_bundled/``), where the
installed service reads them through ``importlib.resources``; the top-level ``templates/``
and ``alembic/`` folders stay the source. Everything else is in ``pyproject.toml``."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
BUNDLED = ("templates", "alembic", "alembic.ini")


class BuildWithResources(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib, "app", "_bundled")
        if target.resolve().is_relative_to(HERE / "app"):
            return  # an in-place (editable) build reads the source tree itself
        for name in BUNDLED:
            source, copy = HERE / name, target / name
            if copy.exists():
                shutil.rmtree(copy) if copy.is_dir() else copy.unlink()
            copy.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(source, copy)


setup(cmdclass={"build_py": BuildWithResources})
