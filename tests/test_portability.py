"""A clone works wherever it is put, and says in one line when the shared samples are missing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Built from parts so this file does not match itself.
ABSOLUTE_MACHINE_PATH = re.compile("/" + "work/" + "|" + "Path" + r"\(['\"]/")


def test_no_tracked_file_names_an_absolute_machine_path():
    files = subprocess.run(
        [shutil.which("git") or "git", "ls-files", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        text=True,
    ).stdout.split("\0")
    hits = []
    for name in filter(None, files):
        path = ROOT / name
        if not path.is_file() or path.suffix not in {".py", ".md", ".toml", ".cfg", ".ini", ""}:
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if ABSOLUTE_MACHINE_PATH.search(line):
                hits.append(f"{name}:{number}")
    assert hits == []


def test_missing_shared_folder_stops_the_session_with_one_line(tmp_path):
    env = {**os.environ, "COSTBRIDGE_SHARED": str(tmp_path / "nowhere")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_portability.py", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode == 4
    assert len(lines) == 1, lines
    assert "shared QBO samples" in lines[0]
    assert "COSTBRIDGE_SHARED" in lines[0]
