#!/usr/bin/env python3
"""Set-up commands for Digital Liaocheng. Needs only Python 3.11 and pip.

    python3 dev.py start   # install into .venv, migrate, load the city profile and demo data, serve :8000
    python3 dev.py test    # install into .venv and run the whole test suite

Everything is installed from the pinned lock file (requirements.lock) into ./.venv.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
LOCK = ROOT / "requirements.lock"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"


def run(*cmd: str | Path, env: dict[str, str] | None = None) -> None:
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.exit(result.returncode)


def ensure_env() -> None:
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"Python 3.11 is required (this is {sys.version.split()[0]})")
    if not PY.exists():
        print("creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / ".lock-installed"
    wanted = hashlib.sha256(LOCK.read_bytes() + (ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != wanted:
        print("installing pinned dependencies (requirements.lock) ...", flush=True)
        run(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", LOCK)
        run(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "-e", ".")
        stamp.write_text(wanted)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in {"start", "test"}:
        sys.exit(__doc__)
    ensure_env()
    if sys.argv[1] == "start":
        run(BIN / "liaocheng", "demo", *sys.argv[2:])
    else:
        run(PY, "-m", "pytest", "-n", os.environ.get("LIAOCHENG_TEST_WORKERS", "2"), *sys.argv[2:])


if __name__ == "__main__":
    main()
