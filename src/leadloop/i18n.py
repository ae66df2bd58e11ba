"""Translations without GNU gettext: compile .po files with Babel, and find untranslated strings.

    python -m leadloop.i18n compile   # .po → .mo (run by make)
    python -m leadloop.i18n check     # lists user-facing strings with no Dutch translation
    python -m leadloop.i18n update    # adds missing msgids to the Dutch catalogue (msgstr empty)

Strings are extracted the way makemessages does it: Django's own `templatize` turns templates into
gettext calls, and Babel's Python extractor reads those and the .py files.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_python
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent
LOCALE = ROOT / "locale"
LANGUAGES = ("nl",)
KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
SKIP_PARTS = {"migrations", "locale", "static"}


def _po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "django.po"


def _sources() -> Iterator[Path]:
    for path in sorted(ROOT.rglob("*")):
        if SKIP_PARTS & set(path.relative_to(ROOT).parts):
            continue
        if path.suffix in {".py", ".html", ".txt"} and path.is_file() and path.name != "i18n.py":
            yield path


def extract() -> dict[tuple[str | None, str | tuple[str, ...]], str]:
    """Every translatable message in the package: (context, msgid) → first place it was seen."""
    import django
    from django.conf import settings

    if not settings.configured:
        import os

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadloop.settings")
        django.setup()
    from django.utils.translation.template import templatize

    found: dict[tuple[str | None, str | tuple[str, ...]], str] = {}
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        if path.suffix != ".py":
            # templatize keeps the template's indentation, which Python's tokenizer may refuse
            # ("unindent does not match"); only the gettext calls matter, so drop it.
            text = "\n".join(
                line.strip() for line in templatize(text, origin=str(path)).splitlines()
            )
        for lineno, _func, message, _comments in extract_python(
            io.BytesIO(text.encode("utf-8")), KEYWORDS, [], {}
        ):
            context: str | None = None
            msgid: Any = message
            if isinstance(message, tuple):
                # Babel gives every argument: (context,) singular, plural, count (None).
                if _func in {"npgettext", "npgettext_lazy"}:
                    context, msgid = message[0], tuple(message[1:3])
                elif _func in {"pgettext", "pgettext_lazy"}:
                    context, msgid = message[0], message[1]
                elif _func in {"ngettext", "ngettext_lazy"}:
                    msgid = tuple(message[:2])
                else:
                    msgid = message[0]
            if isinstance(msgid, tuple | list):
                msgid = tuple(str(part) for part in msgid)
                if len(msgid) == 1:
                    msgid = msgid[0]
            if not msgid:
                continue
            found.setdefault((context, msgid), f"{path.relative_to(ROOT)}:{lineno}")
    return found


def _catalog(lang: str) -> Catalog:
    path = _po_path(lang)
    if not path.exists():
        return Catalog(locale=lang, domain="django")
    with path.open("rb") as handle:
        return read_po(handle, locale=lang)


def missing(lang: str) -> list[tuple[str, str]]:
    """Messages in the code with no translation (or a fuzzy one) in `lang`: (where, msgid)."""
    catalog = _catalog(lang)
    result = []
    for (context, msgid), where in extract().items():
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        entry = catalog.get(key, context=context)
        strings = entry.string if entry is not None else None
        translated = (
            entry is not None
            and not entry.fuzzy
            and (all(strings) if isinstance(strings, tuple) else bool(strings))
        )
        if not translated:
            result.append((where, key if context is None else f"{context}|{key}"))
    return sorted(result)


def update(lang: str) -> int:
    """Add every extracted message missing from the catalogue, untranslated; returns how many."""
    catalog = _catalog(lang)
    added = 0
    for (context, msgid), where in extract().items():
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        if catalog.get(key, context=context) is None:
            string: str | tuple[str, ...] = ("", "") if isinstance(msgid, tuple) else ""
            catalog.add(msgid, string, locations=[(where.split(":")[0], 0)], context=context)
            added += 1
    path = _po_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False, no_location=True, sort_output=True)
    return added


def compile_all() -> None:
    """Write a .mo next to every .po (Django reads those at run time)."""
    for lang in LANGUAGES:
        path = _po_path(lang)
        if not path.exists():
            continue
        catalog = _catalog(lang)
        with path.with_suffix(".mo").open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command == "compile":
        compile_all()
        return 0
    if command == "update":
        for lang in LANGUAGES:
            print(f"{lang}: added {update(lang)} message(s)")  # noqa: T201
        return 0
    if command == "check":
        problems = [(lang, *item) for lang in LANGUAGES for item in missing(lang)]
        for lang, where, msgid in problems:
            print(f"{lang}: {where}: {msgid!r} has no translation")  # noqa: T201
        return 1 if problems else 0
    print("usage: python -m leadloop.i18n compile|check|update", file=sys.stderr)  # noqa: T201
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
