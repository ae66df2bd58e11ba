"""Bench helper, run inside Django against the bench database: actors, keys, sessions, parameters.

Prints one JSON object: API keys and session cookies for the admin, a rep and a manager, and the
query parameters of every list shape (a common last name, a rare e-mail, a phone prefix, ids).
"""

from __future__ import annotations

import json
import os
import sys

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadloop.settings")
    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db.models import Count

    from leadloop.accounts import services as accounts_services
    from leadloop.accounts.models import Team, User
    from leadloop.leads.models import Lead, Source

    def session_for(user: User) -> str:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        return str(store.session_key)

    actors = {"admin": "admin", "rep": "rep.noor", "manager": "manager.north"}
    keys, sessions, ids = {}, {}, {}
    for role, username in actors.items():
        user = User.objects.get(username=username)
        keys[role] = accounts_services.issue_api_key(user, name="bench").raw
        sessions[role] = session_for(user)
        ids[role] = user.pk
    # A common last name: the most frequent one among a sample of ids (a full GROUP BY over a
    # million rows is slow on SQLite and tells the same story).
    sample = Lead.objects.filter(pk__lte=50_000).exclude(last_name="")
    common = sample.values("last_name").annotate(n=Count("id")).order_by("-n", "last_name").first()
    total = Lead.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    rare_email = ""
    for lead in Lead.objects.filter(pk__gte=total // 2).exclude(email="").order_by("pk")[:50]:
        if Lead.objects.filter(email=lead.email).count() == 1:
            rare_email = lead.email
            break
    phone = (
        Lead.objects.filter(pk__gte=total // 3, phone_e164__startswith="+316")
        .values_list("phone_e164", flat=True)
        .first()
    ) or "+31612345678"
    params = {
        "common_last_name": common["last_name"] if common else "Jansen",
        "rare_email": rare_email,
        "phone_prefix": "0" + phone[3:8],  # national form, e.g. 061234
        "source_id": Source.objects.get(name="Website contact form").pk,
        "team_id": Team.objects.get(name="Sales North").pk,
        "leads": Lead.objects.count() if total < 300_000 else total,
    }
    json.dump({"keys": keys, "sessions": sessions, "user_ids": ids, "params": params}, sys.stdout)


if __name__ == "__main__":
    main()
