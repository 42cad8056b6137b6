#!/usr/bin/env python3
"""The translation catalogs (docs/languages.md).

    scripts/catalogs.py update [LANG ...]   data texts -> data_strings.py, then makemessages
    scripts/catalogs.py compile             every django.po -> django.mo, in pure Python

`update` needs GNU gettext (xgettext, msgmerge); `compile` needs only polib (a dev extra), so
the compiled .mo files are committed and an installation needs no gettext tools.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "kratomwatch"
LOCALE = PACKAGE / "locale"
# Not part of the web app's text: command-line, API, interop and clinical-core modules.
IGNORE = ["synthetic/*", "cli/*", "api/*", "interop/*", "ops/*", "domain/*"]


def _django(*args: str) -> None:
    env = dict(os.environ, KRATOMWATCH_DEBUG="1", PYTHONPATH=str(ROOT / "src"))
    command = [sys.executable, "-m", "django", *args, "--settings=kratomwatch.settings"]
    subprocess.run(command, cwd=PACKAGE, env=env, check=True)


def update(languages: list[str]) -> None:
    _django("data_msgids")
    languages = languages or sorted(p.name for p in LOCALE.iterdir() if p.is_dir())
    ignore = [arg for pattern in IGNORE for arg in ("-i", pattern)]
    locales = [arg for code in languages for arg in ("-l", code)]
    _django("makemessages", *locales, "--no-obsolete", "--add-location=file", *ignore)


def compile_all() -> None:
    import polib

    for po_path in sorted(LOCALE.glob("*/LC_MESSAGES/django.po")):
        po = polib.pofile(str(po_path))
        po.save_as_mofile(str(po_path.with_suffix(".mo")))
        print(f"{po_path.relative_to(ROOT)}: {len(po.translated_entries())} messages")


if __name__ == "__main__":
    match sys.argv[1:2]:
        case ["update"]:
            update(sys.argv[2:])
        case ["compile"]:
            compile_all()
        case _:
            sys.exit(__doc__)
