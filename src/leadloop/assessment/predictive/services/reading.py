"""Reads of the stored models, for the people who may see them."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.permissions import Permission, require
from leadloop.assessment.models import PredictiveModel
from leadloop.assessment.predictive.services.features import EMPTY, OPT_IN_FIELDS, OTHER
from leadloop.core.labels import decimal
from leadloop.errors import NotFound
from leadloop.leads.models import ActivityKind, Lead

logger = logging.getLogger(__name__)


# --- Reading -------------------------------------------------------------------------------------


def list_models(actor: Actor) -> QuerySet[PredictiveModel]:
    """Every trained model, newest first, without the stored pipelines (config roles only)."""
    require(actor, Permission.VIEW_PREDICTIVE_MODELS)
    return PredictiveModel.objects.defer("blob").select_related("trained_by")


def get_active_model(actor: Actor) -> PredictiveModel | None:
    """The model that scores leads now, if any (config roles only)."""
    return list_models(actor).filter(is_active=True).first()


def get_model(actor: Actor, model_id: int) -> PredictiveModel:
    """One trained model (config roles only); NotFound when there is no such model."""
    found = list_models(actor).filter(pk=model_id).first()
    if found is None:
        raise NotFound(_("No such predictive model."))
    return found


def includable_fields(actor: Actor) -> list[dict[str, Any]]:
    """Fields marketing may include on the next training: those the last leakage check left out
    (or that were included then), and sales' own fields that are never used by default."""
    latest = list_models(actor).first()
    report = latest.report if latest is not None else {}
    items = [
        *(
            {**item, "included": False}
            for item in report.get("excluded", [])
            if item.get("flag") != "row_id"  # an identifier is never a feature
        ),
        *report.get("included", []),
    ]
    seen = {item["field"] for item in items}
    items += [
        {"field": f, "flag": "after_contact", "included": False}
        for f in OPT_IN_FIELDS
        if f not in seen
    ]
    return items


# --- Words ---------------------------------------------------------------------------------------


def field_label(field: str) -> str:
    """A field's name for people: 'extra.contract_number' → 'Extra field “contract_number”'."""
    if field.startswith("extra."):
        return _("Extra field “%(name)s”") % {"name": field[6:]}
    if field.startswith("activity."):
        kind = field[9:]
        label = ActivityKind(kind).label if kind in ActivityKind.values else kind
        return _("Number of “%(kind)s” entries") % {"kind": label}
    labels = {
        "source": _("Source"),
        "country": _("Country"),
        "language": _("Language"),
        "fit_grade": _("Fit grade"),
        "job_title": _("Job title"),
        "employees": _("Organisation size (employees)"),
        "industry": _("Industry"),
        "utm_source": _("UTM source"),
        "utm_medium": _("UTM medium"),
        "bant_budget": _("BANT budget"),
        "bant_authority": _("BANT authority"),
        "bant_need": _("BANT need"),
        "bant_timeframe": _("BANT timeframe"),
        "potential_revenue": _("Potential revenue"),
    }
    return str(labels.get(field, field))


def flag_reasons(item: Mapping[str, Any]) -> list[str]:
    """Every reason the leakage check found for a field, strongest first."""
    flags = item.get("flags") or [item.get("flag")]
    return [flag_reason(item, flag=flag) for flag in flags]


def flag_reason(item: Mapping[str, Any], *, flag: str | None = None) -> str:
    """Why a field was left out (or would have been), in words: its strongest reason, or `flag`."""
    flag = flag or item.get("flag")
    if flag == "open_closed":
        return _(
            "Filled in for %(closed)d%% of the closed leads but only %(open)d%% of the open ones: "
            "it is filled in after the contact, and the leads to score do not have it yet."
        ) % {
            "closed": round(100 * item.get("filled_closed", 0)),
            "open": round(100 * item.get("filled_open", 0)),
        }
    if flag == "closed_only":
        return _(
            "%(share)d%% of the closed leads have a value no open lead has (such as "
            "“%(values)s”), and those values go with one outcome: they are set when the lead "
            "is closed."
        ) % {
            "share": round(100 * item.get("closed_only_share", 0)),
            "values": "”, “".join(item.get("closed_only_values", [])),
        }
    if flag == "after_contact_timeline":
        return _(
            "The timeline shows it was first filled in after sales' first contact for "
            "%(share)d%% of the leads that have it."
        ) % {"share": round(100 * item.get("filled_after_contact", 0))}
    if flag == "row_id":
        return _(
            "Nearly every value is different: it identifies a lead (a reference, e-mail address, "
            "phone number or link) and says nothing about other leads. Never used."
        )
    if flag == "name":
        return _(
            "Its name suggests it is filled in by sales. Include it if it is filled in before "
            "the first contact."
        )
    if flag == "predicts_alone":
        return _(
            "On its own it predicts the outcome almost perfectly (AUC %(auc)s): it is probably "
            "filled in after the outcome is known."
        ) % {"auc": decimal(item.get("auc", 0))}
    if flag == "presence":
        return _(
            "Whether it is filled in depends on the outcome (filled for %(won)d%% of won leads, "
            "%(other)d%% of the others)."
        ) % {
            "won": round(100 * item.get("filled_won", 0)),
            "other": round(100 * item.get("filled_other", 0)),
        }
    return _("Filled in by sales after the first contact; not used unless included.")


def _split_feature(feature: str, fields: Sequence[str]) -> tuple[str, str, str]:
    """('job_title~director') → (field, operator, value), matching the longest known field."""
    for field in sorted(fields, key=len, reverse=True):
        if feature == field:
            return field, "", ""
        if feature.startswith(field) and feature[len(field)] in "=~":
            return field, feature[len(field)], feature[len(field) + 1 :]
    return feature, "", ""


def _choice(field: str, value: str) -> str:
    """A lead field's stored choice value ("not_met") by its label in the active language."""
    try:
        choices = dict(getattr(Lead._meta.get_field(field), "choices", None) or ())
    except FieldDoesNotExist:  # not a lead column: extra fields, activity counts
        return value
    return str(choices.get(value, value))


def factor_text(factor: Mapping[str, Any], report: Mapping[str, Any]) -> str:
    """A factor in words: 'Job title contains “directeur”: raises the chance (odds × 2.4)'."""
    field, operator, value = _split_feature(factor["feature"], report.get("fields_used", []))
    label = field_label(field)
    if field == "source" and value in report.get("labels", {}):
        value = report["labels"][value]
    if operator == "~":
        what = _("%(field)s contains “%(value)s”") % {"field": label, "value": value}
    elif operator == "=" and value == EMPTY:
        what = _("%(field)s is empty") % {"field": label}
    elif operator == "=" and value == OTHER:
        what = _("%(field)s has a rare value") % {"field": label}
    elif operator == "=":
        what = _("%(field)s is “%(value)s”") % {"field": label, "value": _choice(field, value)}
    else:
        what = _("Higher %(field)s") % {"field": label.lower()}
    ratio = decimal(factor["odds_ratio"])
    if factor["weight"] > 0:
        effect = _("raises the chance (odds × %(ratio)s)") % {"ratio": ratio}
    else:
        effect = _("lowers the chance (odds × %(ratio)s)") % {"ratio": ratio}
    return f"{what}: {effect}"


def model_kind_label(kind: str) -> str:
    """The kind of model in words."""
    if kind == "boosting":
        return _("gradient-boosted trees")
    return _("logistic regression")


def warning_text(warning: Mapping[str, Any]) -> str:
    if warning["code"] == "too_good":
        return _(
            "Too good to be true: an AUC of %(auc)s on leads the model has not seen is "
            "suspiciously high. A field probably gives the outcome away; check the included "
            "fields and the factors before trusting these scores."
        ) % {"auc": decimal(warning["auc"], 3)}
    return _("Included on request although the leakage check would leave them out: %(fields)s.") % {
        "fields": ", ".join(field_label(f) for f in warning.get("fields", []))
    }
