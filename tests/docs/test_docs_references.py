"""The docs name only files, modules and scheduled jobs that exist.

Every `src/leadloop/...` path, every path under an app folder (`intake/imports/bulk.py`) and
every dotted module name (`leadloop.core.retry`, `accounts.permissions.writable_lead_fields`) in
README.md and docs/ must resolve against the tree, so a move that forgets the docs fails here.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from leadloop.core import schedule

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "leadloop"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
HOST_ENDINGS = {"com", "nl", "org", "net", "example"}
APPS = ("core", "accounts", "leads", "assessment", "intake", "privacy", "demo", "web")

# Named by the docs as they will be once the one-path work lands (issue 10, helper `onepath`).
# Named as an example of the apps to come (architecture.md, "Where a new app plugs in").
NOT_YET_IN_THE_TREE = {"leadloop.distribution"}

# `src/leadloop/intake/imports/bulk.py`, `intake/imports/`, `core/schedule.py`: under src/leadloop/
PATH = re.compile(
    r"(?<![\w./@-])(?:src/leadloop/|leadloop/)?((?:" + "|".join(APPS) + r")/[\w/.-]*(?:\.\w+|/))"
)
# `bench/intake_http.py`, `tests/intake/test_crash_recovery.py`: from the repository's root
ROOT_PATH = re.compile(r"(?<![\w./@-])((?:bench|tests|scripts|src/leadloop)/[\w/.-]*\.\w+)")
# `leadloop.core.retry.retrying_task` anywhere; `accounts.permissions.writable_lead_fields` in
# backticks, when it names an existing module of the app or has three parts (JSON keys such as
# `assessment.raw` and host names such as leads.example.com are not modules)
DOTTED = re.compile(r"(?<![\w./@-])(leadloop(?:\.[a-z_]\w*)+)(?![\w/-])")
SHORT = re.compile(r"`((?:" + "|".join(APPS) + r")(?:\.[a-z_]\w*)+)[`(]")


def _doc_texts() -> list[tuple[str, str]]:
    return [(str(doc.relative_to(ROOT)), doc.read_text(encoding="utf-8")) for doc in DOCS]


def _paths_named() -> list[tuple[str, str]]:
    found = []
    for name, text in _doc_texts():
        for match in PATH.finditer(text):
            path = match.group(1).rstrip(".")
            if "<" in text[match.end(1) : match.end(1) + 1]:
                continue  # a pattern such as channels/<name>/
            found.append((name, path))
    return found


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_every_path_named_in_the_docs_exists():
    missing = sorted({(doc, path) for doc, path in _paths_named() if not (SRC / path).exists()})
    assert missing == []


def _modules_named() -> list[tuple[str, str]]:
    found = []
    for doc, text in _doc_texts():
        found += [(doc, m.group(1).rstrip(".")) for m in DOTTED.finditer(text)]
        for match in SHORT.finditer(text):
            app, second, *rest = match.group(1).split(".")
            if (
                (SRC / app / f"{second}.py").exists()
                or (SRC / app / second).is_dir()
                or (rest and rest[-1] not in HOST_ENDINGS)
            ):
                found.append((doc, f"leadloop.{match.group(1)}"))
    return found


def test_every_path_in_the_repository_named_in_the_docs_exists():
    missing = set()
    for doc, text in _doc_texts():
        missing |= {
            (doc, m.group(1)) for m in ROOT_PATH.finditer(text) if not (ROOT / m.group(1)).exists()
        }
    assert sorted(missing) == []


def test_every_module_named_in_the_docs_exists():
    missing = {
        (doc, dotted)
        for doc, dotted in _modules_named()
        if dotted not in NOT_YET_IN_THE_TREE and not _resolves(dotted)
    }
    assert sorted(missing) == []


def test_the_checks_see_the_names_they_look_for():
    assert ("docs/intake.md", "intake/imports/bulk/") in _paths_named()
    assert ("docs/security/secrets.md", "leadloop.intake.channels.secrets.connection_settings") in (
        _modules_named()
    )
    assert not _resolves("leadloop.intake.importing")
    assert not _resolves("leadloop.assessment.dedup.no_such_function")
    assert _resolves("leadloop.accounts.permissions.writable_lead_fields")


def _job_names() -> list[str]:
    return [spec.name for spec in schedule.SCHEDULE]


@pytest.mark.parametrize("job", _job_names())
def test_every_scheduled_job_is_listed_in_operations_md(job):
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert f"`{job}`" in operations


def test_every_link_between_the_docs_resolves():
    broken = []
    for doc in DOCS:
        for match in re.finditer(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            target = match.group(1)
            if "://" not in target and not (doc.parent / target).exists():
                broken.append((str(doc.relative_to(ROOT)), target))
    assert broken == []
