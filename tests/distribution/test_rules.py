"""Editing routing rules: every problem is named at save time, versions are numbered and
kept, and only marketing and admins change them (service, API, pages and CLI)."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from leadloop.accounts.models import AuditAction, AuditEvent, Role
from leadloop.distribution import selectors, services
from leadloop.distribution.models import RuleSet
from leadloop.errors import NotAllowed, ValidationFailed
from leadloop.leads.models import Lead, LeadStatus
from tests.distribution.conftest import publish, ready_lead, team_push
from tests.factories.accounts import make_team, make_user

pytestmark = pytest.mark.django_db


def _errors(document):
    with pytest.raises(ValidationFailed) as caught:
        services.clean_document(document)
    return caught.value.errors


def test_every_problem_is_named_at_save_time(team, reps):
    empty_team = make_team("Empty")
    errors = _errors(
        {
            "rules": [
                {"name": "", "conditions": "contry = NL", "action": team_push(team)},
                {"name": "Two", "conditions": [], "action": team_push(empty_team)},
                {
                    "name": "two",
                    "conditions": "city = X",
                    "action": {"kind": "person", "user": "nobody"},
                },
                {
                    "name": "Range",
                    "conditions": "postal_code between 2000 and 1000",
                    "action": {"kind": "fly"},
                },
            ],
            "default": {},
        }
    )

    assert errors == {
        "rules.1.name": ["Give the rule a name."],
        "rules.1.conditions": [
            "Line 1: There is no field contry. Known fields: "
            + ", ".join(__import__("leadloop.distribution.conditions", fromlist=["FIELDS"]).FIELDS)
            + ", or extra.<name>."
        ],
        "rules.2.conditions": [
            "A rule needs at least one condition; the default rule takes every other lead."
        ],
        "rules.2.action": [
            "Team Empty has no active sales members to push leads to: add members, or send its "
            "leads to the team's pool."
        ],
        "rules.3.name": ["Another rule has this name."],
        "rules.3.action": ["There is no user nobody."],
        "rules.4.conditions": [
            "Line 1: The range 2000–1000 is empty: the first number must be the lower one."
        ],
        "rules.4.action": ["Choose a team, a person, a partner, nurturing or selling."],
        "default": ["Choose a team, a person, a partner, nurturing or selling."],
    }


def test_an_empty_team_may_take_leads_in_its_pool(team):
    empty_team = make_team("Empty")

    clean = services.clean_document({"rules": [], "default": team_push(empty_team, "pool")})

    assert clean["default"] == {
        "kind": "team",
        "team_id": empty_team.pk,
        "team": "Empty",
        "mode": "pool",
    }


def test_a_partner_user_or_an_inactive_person_cannot_be_a_target(partner_user, admin, reps):
    from leadloop.accounts import services as accounts_services

    accounts_services.set_user_active(reps[0], active=False, by=admin)

    assert _errors({"rules": [], "default": {"kind": "person", "user_id": partner_user.pk}}) == {
        "default": ["partner is not an active sales rep or manager."]
    }
    assert _errors({"rules": [], "default": {"kind": "person", "user": "noor"}}) == {
        "default": ["noor is not an active sales rep or manager."]
    }


def test_publishing_numbers_versions_and_the_newest_is_in_force(team, reps, marketing):
    first = publish([], team_push(team, "pool"), by=marketing, note="start")
    second = publish(
        [{"name": "NL", "conditions": "country = NL", "action": team_push(team)}],
        team_push(team, "pool"),
        by=marketing,
    )

    assert (first.version, second.version) == (1, 2)
    assert selectors.active_rule_set() == second
    assert RuleSet.objects.get(version=1).rules == []
    assert AuditEvent.objects.filter(
        action=AuditAction.RULE_CHANGED, target_id="routing-v2", actor=marketing
    ).exists()


def test_the_draft_is_edited_rule_by_rule_and_published_whole(team, reps, marketing):
    publish([], team_push(team, "pool"))
    services.put_draft_rule(
        {"name": "A", "conditions": "grade = A", "action": team_push(team)}, by=marketing
    )
    services.put_draft_rule(
        {"name": "B", "conditions": "grade = B", "action": team_push(team)}, by=marketing
    )
    services.move_draft_rule(1, by=marketing, offset=-1)
    services.delete_draft_rule(1, by=marketing)

    assert [rule["name"] for rule in selectors.get_draft_row().rules] == ["B"]
    assert selectors.active_rule_set().rules == []

    published = services.publish(by=marketing, note="grade B first")

    assert [rule["name"] for rule in published.rules] == ["B"]
    assert selectors.get_draft_row().based_on == 2


def test_an_old_version_comes_back_through_the_draft(team, reps, marketing):
    publish(
        [{"name": "Old", "conditions": "country = NL", "action": team_push(team)}], team_push(team)
    )
    publish([], team_push(team, "pool"))

    services.restore_to_draft(1, by=marketing)
    again = services.publish(by=marketing, note="back to v1")

    assert again.version == 3
    assert [rule["name"] for rule in again.rules] == ["Old"]


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.SALES_MANAGER, Role.PARTNER])
def test_only_marketing_and_admins_change_rules(role, team, partner_org):
    user = make_user(
        role,
        team=team if role != Role.PARTNER else None,
        partner=partner_org if role == Role.PARTNER else None,
    )

    with pytest.raises(NotAllowed):
        services.publish(by=user, document={"rules": [], "default": team_push(team, "pool")})
    with pytest.raises(NotAllowed):
        services.save_draft({"rules": [], "default": team_push(team, "pool")}, by=user)
    assert RuleSet.objects.count() == 0


def test_export_names_targets_so_another_installation_can_import_them(team, reps):
    published = publish(
        [
            {
                "name": "Noor",
                "conditions": "country = NL",
                "action": {"kind": "person", "user_id": reps[0].pk},
            }
        ],
        team_push(team),
    )

    exported = services.export_document({"rules": published.rules, "default": published.default})

    assert exported == {
        "rules": [
            {
                "name": "Noor",
                "conditions": [{"field": "country", "op": "eq", "value": "NL"}],
                "action": {"kind": "person", "user": "noor"},
            }
        ],
        "default": {"kind": "team", "team": "North", "mode": "push"},
    }
    assert services.clean_document(exported) == {
        "rules": published.rules,
        "default": published.default,
    }


# --- test a lead and dry run -------------------------------------------------------------------


def test_testing_a_lead_explains_every_rule_and_writes_nothing(source, team, reps, marketing):
    document = {
        "rules": [
            {"name": "BE", "conditions": "country = BE", "action": team_push(team, "pool")},
            {
                "name": "NL north",
                "conditions": "country = NL\npostal_code between 1000 and 1999",
                "action": team_push(team),
            },
        ],
        "default": team_push(team, "pool"),
    }
    lead = ready_lead(source, country="NL", postal_code="1234 AB")

    trial = services.test_lead(lead.pk, document, by=marketing)

    assert trial.match.name == "NL north"
    assert trial.target == "team North (pushed to a rep)"
    assert trial.rep in {rep.display_name for rep in reps}
    assert [(name, [(c.text, c.value, c.ok) for c in checks]) for name, checks in trial.rules] == [
        ("BE", [("country = BE", "NL", False)]),
        (
            "NL north",
            [("country = NL", "NL", True), ("postal_code between 1000 and 1999", "1234 AB", True)],
        ),
    ]
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.SALES_READY


def test_a_rep_cannot_test_rules_on_a_lead(source, team, rep):
    lead = ready_lead(source)

    with pytest.raises(NotAllowed):
        services.test_lead(lead.pk, {"rules": [], "default": team_push(team, "pool")}, by=rep)


def test_the_dry_run_counts_each_rule_and_names_those_that_take_nothing(
    source, team, reps, marketing
):
    for country in ("NL", "NL", "BE"):
        ready_lead(source, country=country)
    document = {
        "rules": [
            {"name": "NL", "conditions": "country = NL", "action": team_push(team)},
            {"name": "Typo", "conditions": "country = NLD", "action": team_push(team)},
        ],
        "default": team_push(team, "pool"),
    }

    result = services.dry_run(document, by=marketing, last=3)

    assert result.counts == [("NL", 2), ("Typo", 0), ("", 1)]
    assert result.unmatched_rules == ["Typo"]
    assert Lead.objects.filter(assigned_to__isnull=False).count() == 0


# --- API ---------------------------------------------------------------------------------------


def test_the_api_saves_publishes_tests_and_routes(api_client_for, marketing, source, team, reps):
    client = api_client_for(marketing)
    document = {
        "rules": [
            {
                "name": "NL",
                "conditions": "country = NL",
                "action": {"kind": "team", "team": "North", "mode": "push"},
            }
        ],
        "default": {"kind": "team", "team_id": team.pk, "mode": "pool"},
    }

    saved = client.put(
        "/api/v1/distribution/rules/draft", document, content_type="application/json"
    )
    published = client.post(
        "/api/v1/distribution/rules/publish", {"note": "first"}, content_type="application/json"
    )
    lead = ready_lead(source, country="NL")
    tested = client.post(
        "/api/v1/distribution/rules/test", {"lead_id": lead.pk}, content_type="application/json"
    )
    routed = client.post(
        "/api/v1/distribution/route", {"lead_id": lead.pk}, content_type="application/json"
    )
    again = client.post(
        "/api/v1/distribution/route", {"lead_id": lead.pk}, content_type="application/json"
    )
    decisions = client.get(f"/api/v1/distribution/leads/{lead.pk}/decisions")

    assert saved.status_code == 200
    assert saved.json()["rules"][0]["action"] == {
        "kind": "team",
        "team_id": team.pk,
        "team": "North",
        "mode": "push",
    }
    assert published.status_code == 201
    assert published.json()["version"] == 1
    assert tested.json()["rule"] == "NL"
    assert routed.status_code == 201
    assert routed.json()["outcome"] == "assigned"
    assert again.status_code == 409
    assert again["Content-Type"] == "application/problem+json"
    assert [d["rule"] for d in decisions.json()] == ["NL"]


def test_the_api_answers_bad_rules_with_every_problem(api_client_for, marketing, team):
    client = api_client_for(marketing)

    answer = client.put(
        "/api/v1/distribution/rules/draft",
        {
            "rules": [{"name": "X", "conditions": "regoin = Noord", "action": {"kind": "nurture"}}],
            "default": {"kind": "nurture"},
        },
        content_type="application/json",
    )

    assert answer.status_code == 422
    assert answer["Content-Type"] == "application/problem+json"
    [error] = answer.json()["errors"]
    assert error["field"] == "rules.1.conditions"
    assert error["detail"].startswith("Line 1: There is no field regoin.")


def test_the_api_refuses_a_rep(api_client_for, rep, team):
    client = api_client_for(rep)

    assert client.get("/api/v1/distribution/rules").status_code == 403
    assert (
        client.post(
            "/api/v1/distribution/rules/publish",
            {"document": {"rules": [], "default": {"kind": "nurture"}}},
            content_type="application/json",
        ).status_code
        == 403
    )
    assert RuleSet.objects.count() == 0


# --- pages -------------------------------------------------------------------------------------


def test_marketing_builds_rules_on_the_page_and_publishes(logged_in_client, marketing, team, reps):
    client = logged_in_client(marketing)

    default = client.post(
        reverse("distribution:rule-default"), {"kind": "team_pool", "team": team.pk}
    )
    bad = client.post(
        reverse("distribution:rule-new"),
        {
            "name": "North",
            "conditions": "postal_code between 1999 and 1000",
            "kind": "team_push",
            "team": team.pk,
        },
    )
    good = client.post(
        reverse("distribution:rule-new"),
        {
            "name": "North",
            "conditions": "postal_code between 1000 and 1999",
            "kind": "team_push",
            "team": team.pk,
        },
    )
    published = client.post(reverse("distribution:publish"), {"note": "from the page"}, follow=True)

    assert default.status_code == 302
    assert bad.status_code == 422
    assert "The range 1999–1000 is empty" in bad.content.decode()
    assert good.status_code == 302
    assert "Version 1 is in force" in published.content.decode()
    assert selectors.active_rule_set().rules[0]["conditions"] == [
        {"field": "postal_code", "op": "between", "value": ["1000", "1999"]}
    ]


def test_the_rules_page_tests_a_lead_and_shows_hostile_names_as_text(
    logged_in_client, marketing, source, team, reps
):
    publish(
        [
            {
                "name": "<script>alert(1)</script>",
                "conditions": "country = NL",
                "action": team_push(team),
            }
        ],
        team_push(team, "pool"),
    )
    lead = ready_lead(source, country="NL", last_name="<img src=x onerror=alert(1)>")

    page = logged_in_client(marketing).get(
        reverse("distribution:rules"), {"lead_id": lead.pk, "rules": "active"}
    )

    html = page.content.decode()
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.PARTNER])
def test_reps_and_partners_do_not_see_the_routing_pages(role, logged_in_client, team, partner_org):
    user = make_user(
        role,
        team=team if role != Role.PARTNER else None,
        partner=partner_org if role == Role.PARTNER else None,
    )
    client = logged_in_client(user)

    assert client.get(reverse("distribution:rules")).status_code == 404
    assert client.get(reverse("distribution:teams")).status_code == 404


def test_a_manager_reads_the_rules_but_cannot_edit(logged_in_client, manager, team):
    publish([], team_push(team, "pool"))
    client = logged_in_client(manager)

    page = client.get(reverse("distribution:rules"))

    assert page.status_code == 200
    assert reverse("distribution:rule-new") not in page.content.decode()
    assert client.get(reverse("distribution:rule-new")).status_code == 404
    assert client.post(reverse("distribution:publish")).status_code == 404


# --- CLI ---------------------------------------------------------------------------------------


def test_the_cli_imports_publishes_tests_and_routes(tmp_path, source, team, reps):
    path = tmp_path / "rules.json"
    path.write_text(
        json.dumps(
            {
                "rules": [
                    {
                        "name": "NL",
                        "conditions": [{"field": "country", "op": "=", "value": "NL"}],
                        "action": {"kind": "team", "team": "North", "mode": "push"},
                    }
                ],
                "default": {"kind": "team", "team": "North", "mode": "pool"},
            }
        )
    )
    out = io.StringIO()
    call_command("rules", "import", str(path), "--publish", "--note", "cli", stdout=out)
    lead = ready_lead(source, country="NL")
    call_command("rules", "test", "--id", str(lead.pk), stdout=out)
    call_command("route", "--id", str(lead.pk), stdout=out)
    exported = io.StringIO()
    call_command("rules", "export", stdout=exported)

    text = out.getvalue()
    assert "Checked 1 rule(s); they are the draft now. Published as version 1." in text
    assert f"Lead #{lead.pk} matches “NL” → team North (pushed to a rep)" in text
    assert f"#{lead.pk}: Rule “NL” (routing v1) → team North → " in text
    assert json.loads(exported.getvalue())["rules"][0]["action"] == {
        "kind": "team",
        "team": "North",
        "mode": "push",
    }
    with pytest.raises(CommandError, match="is not waiting to be routed"):
        call_command("route", "--id", str(lead.pk), stdout=io.StringIO())


def test_the_cli_refuses_a_bad_file_with_the_problems(tmp_path, team):
    path = tmp_path / "rules.json"
    path.write_text(
        json.dumps(
            {
                "rules": [
                    {"name": "X", "conditions": "contry = NL", "action": {"kind": "nurture"}}
                ],
                "default": {"kind": "nurture"},
            }
        )
    )
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")

    with pytest.raises(
        CommandError, match=r"rules\.1\.conditions: Line 1: There is no field contry"
    ):
        call_command("rules", "import", str(path), stdout=io.StringIO())
    with pytest.raises(CommandError, match="is not a JSON rule set"):
        call_command("rules", "import", str(broken), stdout=io.StringIO())
    assert RuleSet.objects.count() == 0
