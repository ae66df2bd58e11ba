"""The process layout in docs/deploy/ runs commands Leadloop has, with options it takes, and
gives a stopping worker time to finish its longest task."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

from leadloop.analytics.services.facts import RUN_BUDGET_SECONDS

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy"


def _commands() -> list[tuple[str, list[str]]]:
    found = []
    for path in sorted(DEPLOY.iterdir()):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("#"):
                continue
            if path.suffix == ".service" and line.startswith("ExecStart="):
                found.append((path.name, shlex.split(line.removeprefix("ExecStart="))))
            elif path.name == "Procfile" and ":" in line:
                found.append((path.name, shlex.split(line.split(":", 1)[1])))
    return found


def test_the_deploy_files_name_commands():
    assert {name for name, _args in _commands()} >= {
        "Procfile",
        "leadloop-web.service",
        "leadloop-worker@.service",
        "leadloop-backup.service",
    }


@pytest.mark.parametrize(("name", "argv"), _commands())
def test_every_command_in_the_deploy_files_is_one_leadloop_takes(name, argv):
    assert Path(argv[0]).name == "leadloop", name
    command = argv[1].replace("-", "_")
    app = get_commands().get(command)
    assert app is not None, f"{name}: no command {argv[1]}"
    parser = load_command_class(app, command).create_parser("leadloop", command)
    args = [re.sub(r"\$\{PORT:-(\d+)\}", r"\1", a) for a in argv[2:]]
    parser.parse_args(args)  # exits (SystemExit) on an option the command does not take


def test_a_stopping_worker_has_time_to_finish_its_longest_task():
    from leadloop.distribution.services import routing

    unit = (DEPLOY / "leadloop-worker@.service").read_text(encoding="utf-8")
    timeout = int(re.search(r"^TimeoutStopSec=(\d+)$", unit, re.M).group(1))
    longest = max(RUN_BUDGET_SECONDS, routing.route_queued.__kwdefaults__["budget_seconds"])
    assert timeout >= longest * 2
