"""`leadloop demo` without Faker: a production install has no demo dependencies."""

from __future__ import annotations

import io
import sys

import pytest
from django.core.management import CommandError, call_command

import leadloop.demo
from leadloop.leads.models import Lead


def test_demo_without_faker_says_what_to_install_and_loads_nothing(db, monkeypatch):
    monkeypatch.setitem(sys.modules, "faker", None)  # what `import faker` meets when absent
    for name in [m for m in sys.modules if m.startswith("leadloop.demo.dataset")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delattr(leadloop.demo, "dataset", raising=False)

    with pytest.raises(CommandError, match=r"pip install 'leadloop\[demo\]'"):
        call_command("demo", "--leads", "5", stdout=io.StringIO())

    assert Lead.objects.count() == 0
