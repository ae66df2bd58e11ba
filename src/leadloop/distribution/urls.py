"""Routing pages under /distribution/: the rules (draft, publish, test, dry run, versions) and
the teams' push settings, capacity and absences."""

from django.urls import path

from leadloop.distribution import views

app_name = "distribution"

urlpatterns = [
    path("", views.rules_page, name="rules"),
    path("rules/new/", views.rule_edit, name="rule-new"),
    path("rules/<int:index>/", views.rule_edit, name="rule-edit"),
    path("rules/<int:index>/move/", views.rule_move, name="rule-move"),
    path("rules/<int:index>/delete/", views.rule_delete, name="rule-delete"),
    path("rules/default/", views.rule_default, name="rule-default"),
    path("rules/publish/", views.rules_publish, name="publish"),
    path("rules/discard/", views.rules_discard, name="discard"),
    path("rules/export/", views.rules_export, name="export-draft"),
    path("versions/<int:version>/export/", views.rules_export, name="export-version"),
    path("versions/<int:version>/restore/", views.version_restore, name="version-restore"),
    path("waiting/route/", views.route_waiting, name="route-waiting"),
    path("pool/", views.pool_page, name="pool"),
    path("pool/next/", views.pool_claim_next, name="pool-next"),
    path("pool/<int:lead_id>/take/", views.pool_claim, name="pool-take"),
    path("offers/", views.offers_page, name="offers"),
    path("offers/<int:offer_id>/accept/", views.offer_accept, name="offer-accept"),
    path("offers/<int:offer_id>/reject/", views.offer_reject, name="offer-reject"),
    path("partners/", views.scorecard_page, name="scorecard"),
    path("partners/<int:partner_id>/hours/", views.partner_hours, name="partner-hours"),
    path("teams/", views.teams_page, name="teams"),
    path("teams/<int:team_id>/", views.team_settings, name="team-settings"),
    path("reps/<int:user_id>/capacity/", views.rep_capacity, name="rep-capacity"),
    path("reps/<int:user_id>/absences/", views.absence_add, name="absence-add"),
    path("absences/<int:absence_id>/delete/", views.absence_remove, name="absence-remove"),
]
