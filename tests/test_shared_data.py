"""The suite's one way to ../shared/data: absent in CI fails the run, absent locally skips."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# A test that reads ../shared/data and needs no database.
READER = (
    "tests/intake/channels/email/test_parser.py"
    "::test_cf7_notification_becomes_one_record_with_the_message_facts"
)


def _pytest(tmp_path: Path, *, ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_XDIST_WORKER")}
    env["LEADLOOP_SHARED_DATA"] = str(tmp_path / "no-shared-data")
    env.setdefault("TASKS_BACKEND", "dummy")
    env["LEADLOOP_VAR_DIR"] = str(tmp_path / "var")
    # The reader's test needs no database: the PostgreSQL run would deselect it (tests/conftest.py).
    env["LEADLOOP_TEST_EVERYTHING"] = "1"
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:xdist", READER],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("ci", ["true", "1"])
def test_in_ci_a_missing_shared_data_folder_fails_the_run(tmp_path, ci):
    done = _pytest(tmp_path, ci=ci)

    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "../shared/data" in output
    assert "must be checked out beside the repository in CI" in output
    assert "1 passed" not in output
    assert "skipped" not in output


def test_outside_ci_a_missing_shared_data_folder_skips_with_the_reason(tmp_path):
    done = _pytest(tmp_path, ci=None)

    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "1 skipped" in output
    assert "../shared/data/emails/cf7_default_notification_template.txt is not present" in output


def test_with_shared_data_present_the_reader_runs(tmp_path):
    from tests.conftest import SHARED_DATA

    if not os.path.isdir(SHARED_DATA):
        pytest.skip("../shared/data is not present in this checkout")
    env_dir = tmp_path
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", READER],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"},
            "CI": "true",
            "LEADLOOP_SHARED_DATA": SHARED_DATA,
            "LEADLOOP_VAR_DIR": str(env_dir / "var"),
            "LEADLOOP_TEST_EVERYTHING": "1",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
