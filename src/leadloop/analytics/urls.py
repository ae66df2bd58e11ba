"""The analytics pages under /analytics/."""

from django.urls import URLPattern, path

from leadloop.analytics.views import alerts, costs, reports

app_name = "analytics"

urlpatterns: list[URLPattern] = [
    path("", reports.home, name="home"),
    path("sources/", reports.sources_page, name="sources"),
    path("kpis/", reports.kpis_page, name="kpis"),
    path("attribution/", reports.attribution_page, name="attribution"),
    path("leads/", reports.drill_page, name="leads"),
    path("norms/", reports.norms_page, name="norms"),
    path("weekly-report/", reports.weekly_report_choice, name="weekly-report"),
    path("costs/", costs.costs_page, name="costs"),
    path("alerts/", alerts.alerts_page, name="alerts"),
    path("alerts/check/", alerts.alerts_check, name="alerts-check"),
    path("alerts/<int:rule_id>/<str:action>/", alerts.alert_action, name="alert-action"),
]
