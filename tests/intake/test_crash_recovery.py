"""Kill the process mid-way: the submission stays `received`, and after a restart it is processed
exactly once. Runs real processes against a real SQLite file (the crash must not be simulated
inside the test's own transaction)."""

import os
import signal
import subprocess
import sys

import pytest

from tests.distribution.processes import migrated_sqlite_copy

pytestmark = pytest.mark.own_sqlite

SETUP = """
import os
os.environ["DJANGO_SETTINGS_MODULE"] = "leadloop.settings"
import django; django.setup()
from leadloop.accounts.actors import SYSTEM
from leadloop.leads.services import create_source
create_source(name="Provider", kind="http_post", by=SYSTEM)
"""

CRASH = """
import os, signal
os.environ["DJANGO_SETTINGS_MODULE"] = "leadloop.settings"
import django; django.setup()
from leadloop.intake import services
from leadloop.leads import services as leads_services
from leadloop.leads.models import Source

real_save = leads_services.save_new_lead

def save_then_die(*args, **kwargs):
    real_save(*args, **kwargs)            # the lead row is written inside the open transaction...
    os.kill(os.getpid(), signal.SIGKILL)  # ...and the process dies before it commits

leads_services.save_new_lead = save_then_die
submission = services.receive(
    source=Source.objects.get(name="Provider"), channel="http",
    body=b'{"email": "crash@example.com"}', content_type="application/json",
)
print(submission.pk, flush=True)
services.process_submission(submission.pk)
"""

STATE = """
import os
os.environ["DJANGO_SETTINGS_MODULE"] = "leadloop.settings"
import django; django.setup()
from leadloop.intake.models import RawSubmission
from leadloop.leads.models import Lead
s = RawSubmission.objects.get()
print(s.state, Lead.objects.count(), s.lead_id is not None)
"""


def _env(tmp_path):
    env = {
        **os.environ,
        "LEADLOOP_VAR_DIR": str(tmp_path),
        "LEADLOOP_SQLITE_PATH": str(tmp_path / "crash.sqlite3"),
        "TASKS_BACKEND": "db",
        "LEADLOOP_ORPHAN_AFTER_SECONDS": "0",
    }
    env.pop("DATABASE_URL", None)
    return env


def _python(code, env):
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )


def _worker_once(env):
    done = subprocess.run(
        [sys.executable, "-m", "leadloop.cli", "worker", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_a_process_killed_mid_way_leaves_work_that_is_finished_exactly_once(tmp_path):
    env = _env(tmp_path)
    migrated_sqlite_copy(tmp_path / "crash.sqlite3")
    assert _python(SETUP, env).returncode == 0

    crashed = _python(CRASH, env)
    after_crash = _python(STATE, env).stdout.split()
    _worker_once(env)
    after_restart = _python(STATE, env).stdout.split()
    _worker_once(env)
    after_second_run = _python(STATE, env).stdout.split()

    assert crashed.returncode == -signal.SIGKILL
    assert after_crash == ["received", "0", "False"]
    assert after_restart == ["processed", "1", "True"]
    assert after_second_run == ["processed", "1", "True"]
