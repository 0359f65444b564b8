#!/usr/bin/env python3
"""Compile every ``.po`` catalogue under ``src/liaocheng/locale`` to ``.mo`` with polib.

Unlike ``django-admin compilemessages`` this needs no GNU gettext, so it runs anywhere the
development dependencies are installed::

    .venv/bin/python scripts/compile_messages.py          # compile
    .venv/bin/python scripts/compile_messages.py --check  # fail if a .mo is missing or stale

Fuzzy and untranslated entries are left out of the ``.mo`` (as ``msgfmt`` does), so Django shows
the Chinese source string for them. The ``.mo`` files are committed with the ``.po`` files.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "src" / "liaocheng" / "locale"


def _problems(po: polib.POFile, path: Path) -> list[str]:
    problems = []
    for entry in po:
        if entry.obsolete:
            continue
        if "fuzzy" in entry.flags:
            problems.append(f"{path}:{entry.linenum}: fuzzy: {entry.msgid!r}")
        elif not entry.translated():
            problems.append(f"{path}:{entry.linenum}: untranslated: {entry.msgid!r}")
    return problems


def compile_catalogue(po_path: Path) -> bytes:
    """The ``.mo`` bytes for one catalogue."""
    po = polib.pofile(str(po_path), wrapwidth=0)
    po.metadata_is_fuzzy = False  # the header must reach the .mo (charset, plural forms)
    with tempfile.TemporaryDirectory() as tmp:
        mo_path = Path(tmp) / "out.mo"
        po.save_as_mofile(str(mo_path))
        return mo_path.read_bytes()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that every .mo is up to date")
    parser.add_argument("--strict", action="store_true", help="fail on fuzzy or untranslated entries")
    parser.add_argument("--locale-dir", type=Path, default=LOCALE_DIR)
    args = parser.parse_args(argv)

    po_paths = sorted(args.locale_dir.glob("*/LC_MESSAGES/*.po"))
    if not po_paths:
        print(f"no .po files under {args.locale_dir}", file=sys.stderr)
        return 1
    failed = False
    for po_path in po_paths:
        po = polib.pofile(str(po_path))
        problems = _problems(po, po_path)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems and args.strict:
            failed = True
        mo_path = po_path.with_suffix(".mo")
        data = compile_catalogue(po_path)
        relative = po_path.relative_to(args.locale_dir)
        if args.check:
            if not mo_path.exists() or mo_path.read_bytes() != data:
                print(f"{mo_path} is missing or stale: run scripts/compile_messages.py", file=sys.stderr)
                failed = True
            continue
        if mo_path.exists() and mo_path.read_bytes() == data:
            print(f"{relative}: up to date ({po.percent_translated()}% translated)")
            continue
        mo_path.write_bytes(data)
        print(f"{relative} -> {mo_path.name} ({po.percent_translated()}% translated)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
