"""What a demo start does to its work directory: the store always goes (the start is
played again), and ``--reset`` empties the directory."""

from __future__ import annotations

from pathlib import Path

from app.demo import live


def _fill(workdir: Path) -> None:
    workdir.mkdir()
    for name in ("throughline.db", "throughline.db-wal", "throughline.yaml", "notes.txt"):
        (workdir / name).write_text("x", encoding="utf-8")


def test_every_start_drops_the_old_store_and_keeps_other_files(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    _fill(workdir)
    live._fresh_store(workdir)
    assert sorted(p.name for p in workdir.iterdir()) == ["notes.txt", "throughline.yaml"]


def test_reset_empties_the_work_directory(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    _fill(workdir)
    live._fresh_store(workdir, reset=True)
    assert workdir.is_dir()
    assert list(workdir.iterdir()) == []
