"""Building web forms (marketing, admins): the form, its questions, and the source mapping
that reads them."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadloop.accounts.actors import Actor
from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import AuditAction, AuditTarget
from leadloop.accounts.permissions import Permission, require
from leadloop.errors import ValidationFailed
from leadloop.intake import services as intake_services
from leadloop.intake.mapping import EXTRA, TARGETS
from leadloop.intake.synonyms import field_for_label
from leadloop.intake.web_forms.models import FieldInput, FormField, LeadForm
from leadloop.intake.web_forms.services.tokens import RESERVED_NAMES
from leadloop.leads.models import ChannelKind, Source

logger = logging.getLogger(__name__)


# Lead fields a form may fill (from intake.mapping.TARGETS); the rest are set by the pipeline
# (consent, scores, dates) or are not something a visitor types.
FORM_TARGETS = (
    "first_name", "last_name", "full_name", "email", "phone", "company_name", "job_title",
    "street", "house_number", "postal_code", "city", "region", "country", "language",
    "comments", "campaign", "bant_budget", "bant_authority", "bant_need", "bant_timeframe",
    "potential_revenue", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
    "referrer", "landing_page",
)  # fmt: skip
assert set(FORM_TARGETS) <= TARGETS
TARGET_LABELS = {
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "full_name": gettext_lazy("Full name (split into first and last)"),
    "email": gettext_lazy("E-mail"),
    "phone": gettext_lazy("Phone"),
    "company_name": gettext_lazy("Company"),
    "job_title": gettext_lazy("Job title"),
    "street": gettext_lazy("Street"),
    "house_number": gettext_lazy("House number"),
    "postal_code": gettext_lazy("Postal code"),
    "city": gettext_lazy("City"),
    "region": gettext_lazy("Region"),
    "country": gettext_lazy("Country"),
    "language": gettext_lazy("Language"),
    "comments": gettext_lazy("Comments"),
    "campaign": gettext_lazy("Campaign (by name)"),
    "bant_budget": gettext_lazy("BANT: budget"),
    "bant_authority": gettext_lazy("BANT: authority"),
    "bant_need": gettext_lazy("BANT: need"),
    "bant_timeframe": gettext_lazy("BANT: timeframe"),
    "potential_revenue": gettext_lazy("Potential revenue"),
    "utm_source": gettext_lazy("UTM source"),
    "utm_medium": gettext_lazy("UTM medium"),
    "utm_campaign": gettext_lazy("UTM campaign"),
    "utm_term": gettext_lazy("UTM term"),
    "utm_content": gettext_lazy("UTM content"),
    "referrer": gettext_lazy("Referrer"),
    "landing_page": gettext_lazy("Landing page"),
}
EXTRA_PREFIX = "extra:"
CONSENT_TARGETS = ("consent_purpose", "consent_at", "consent_text_version")
STARTER_FIELDS = (
    ("first_name", FieldInput.TEXT, True),
    ("last_name", FieldInput.TEXT, True),
    ("email", FieldInput.EMAIL, True),
    ("phone", FieldInput.TEL, False),
    ("comments", FieldInput.TEXTAREA, False),
)


def _full_clean(instance: LeadForm | FormField, *, exclude: list[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise ValidationFailed(
            _("Please correct the fields marked below."),
            errors={
                name: [str(m) for m in messages] for name, messages in exc.message_dict.items()
            },
        ) from exc


def field_name_for(target: str) -> str:
    """The input name of a field: the lead field itself, or the extra field's own name."""
    return target[len(EXTRA_PREFIX) :] if target.startswith(EXTRA_PREFIX) else target


def target_errors(target: str) -> list[str]:
    """Why `target` cannot be filled by a form field (empty when it can)."""
    if target.startswith(EXTRA_PREFIX):
        name = target[len(EXTRA_PREFIX) :]
        if not name or len(name) > 60 or not all(ch.isalnum() or ch in "_-." for ch in name):
            return [_("Give the extra field a name of letters, digits, '-', '_' or '.'.")]
        if name in TARGETS or name in RESERVED_NAMES or name.startswith("_"):
            return [_("This name is taken; choose the lead field itself or another name.")]
        return []
    if target not in FORM_TARGETS:
        return [_("Choose a lead field or an extra field.")]
    return []


def _mapping_entries(form: LeadForm) -> dict[str, str]:
    """Labels of this form the mapping would not route to their target by name alone."""
    entries: dict[str, str] = {}
    names = [(f.name, f.target) for f in form.fields.all()]
    for name, target in names:
        wanted = EXTRA if target.startswith(EXTRA_PREFIX) else target
        if wanted == EXTRA or field_for_label(name) != wanted:
            entries[name] = wanted
    for target in CONSENT_TARGETS:
        entries[target] = target
    return entries


def _ensure_mapping(form: LeadForm, *, by: Actor) -> None:
    """Let the source's mapping read this form's labels as the fields they were built for.

    Labels a synonym already routes right need no entry; a person's own entry for a label is
    kept, so a mapping fix in the UI still wins.
    """
    source = Source.objects.select_for_update().get(pk=form.source_id)
    current = dict((source.field_mapping or {}).get("fields") or {})
    missing = {k: v for k, v in _mapping_entries(form).items() if k not in current}
    if missing:
        intake_services.set_mapping(source, mapping={"fields": {**current, **missing}}, by=by)


def _audit_form(form: LeadForm, *, by: Actor, change: str, **data: Any) -> None:
    record_audit(
        actor=by,
        action=AuditAction.FORM_CHANGED,
        target_type=AuditTarget.FORM,
        target_id=form.pk,
        target_label=form.slug,
        data={"change": change, **data},
    )


@transaction.atomic
def create_form(
    *,
    source: Source,
    by: Actor,
    title: str,
    slug: str,
    with_starter_fields: bool = True,
    **data: Any,
) -> LeadForm:
    """A new web form on a web-form source, with the usual contact fields to start from."""
    require(by, Permission.MANAGE_WEB_FORMS)
    if source.kind != ChannelKind.WEB_FORM:
        raise ValidationFailed(
            _("A form belongs to a source of the kind web form."),
            errors={"source": [_("Choose a source of the kind web form.")]},
        )
    form = LeadForm(source=source, title=title, slug=slug, **data)
    if not form.submit_label:
        form.submit_label = ""
    _full_clean(form)
    form.save()
    if with_starter_fields:
        for position, (target, input_type, required) in enumerate(STARTER_FIELDS):
            FormField.objects.create(
                form=form,
                position=position,
                name=target,
                target=target,
                label=str(TARGET_LABELS[target]),
                input_type=input_type,
                is_required=required,
            )
    _ensure_mapping(form, by=by)
    _audit_form(form, by=by, change="created")
    logger.info("web form created id=%s slug=%s", form.pk, form.slug)
    return form


@transaction.atomic
def update_form(form: LeadForm, *, by: Actor, **data: Any) -> LeadForm:
    """Change a form's settings (text, consent, thank-you page, source, active)."""
    require(by, Permission.MANAGE_WEB_FORMS)
    locked = LeadForm.objects.select_for_update().get(pk=form.pk)
    for name, value in data.items():
        setattr(locked, name, value)
    if "source" in data and locked.source.kind != ChannelKind.WEB_FORM:
        raise ValidationFailed(
            _("A form belongs to a source of the kind web form."),
            errors={"source": [_("Choose a source of the kind web form.")]},
        )
    _full_clean(locked)
    locked.save()
    _ensure_mapping(locked, by=by)
    _audit_form(locked, by=by, change="settings", fields=sorted(data))
    return locked


def _check_field(field: FormField) -> None:
    errors: dict[str, list[str]] = {}
    problems = target_errors(field.target)
    if problems:
        errors["target"] = problems
    if field.input_type == FieldInput.SELECT and not field.choice_list:
        errors["choices"] = [_("A choice list needs at least one choice, one per line.")]
    if (
        FormField.objects.filter(form_id=field.form_id, name=field.name)
        .exclude(pk=field.pk)
        .exists()
    ):
        errors["target"] = [_("Another field of this form already fills this.")]
    if errors:
        raise ValidationFailed(_("Please correct the fields marked below."), errors=errors)
    _full_clean(field, exclude=["form"])


@transaction.atomic
def add_field(form: LeadForm, *, by: Actor, **data: Any) -> FormField:
    """Add a question at the end of the form."""
    require(by, Permission.MANAGE_WEB_FORMS)
    LeadForm.objects.select_for_update().get(pk=form.pk)
    last = form.fields.aggregate(last=Max("position"))["last"]
    field = FormField(form=form, position=0 if last is None else last + 1, **data)
    field.name = field_name_for(field.target)
    _check_field(field)
    field.save()
    _ensure_mapping(form, by=by)
    LeadForm.objects.filter(pk=form.pk).update(updated_at=timezone.now())
    _audit_form(form, by=by, change="field_added", field=field.name)
    return field


@transaction.atomic
def update_field(field: FormField, *, by: Actor, **data: Any) -> FormField:
    """Change a question: its label, what it fills, its type, required, help or choices."""
    require(by, Permission.MANAGE_WEB_FORMS)
    locked = FormField.objects.select_for_update().get(pk=field.pk)
    for name, value in data.items():
        setattr(locked, name, value)
    locked.name = field_name_for(locked.target)
    _check_field(locked)
    locked.save()
    _ensure_mapping(locked.form, by=by)
    _audit_form(locked.form, by=by, change="field_changed", field=locked.name)
    return locked


@transaction.atomic
def remove_field(field: FormField, *, by: Actor) -> None:
    """Take a question off the form; earlier submissions keep what was sent."""
    require(by, Permission.MANAGE_WEB_FORMS)
    FormField.objects.filter(pk=field.pk).delete()
    _audit_form(field.form, by=by, change="field_removed", field=field.name)


@transaction.atomic
def move_field(field: FormField, *, by: Actor, up: bool) -> None:
    """Swap a question with its neighbour above (up) or below; positions are renumbered."""
    require(by, Permission.MANAGE_WEB_FORMS)
    LeadForm.objects.select_for_update().get(pk=field.form_id)
    ordered = list(FormField.objects.filter(form_id=field.form_id).order_by("position", "pk"))
    index = next(i for i, f in enumerate(ordered) if f.pk == field.pk)
    other = index - 1 if up else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, item in enumerate(ordered):
        if item.position != position:
            FormField.objects.filter(pk=item.pk).update(position=position)
    _audit_form(field.form, by=by, change="field_moved", field=field.name)


def form_warnings(form: LeadForm) -> list[str]:
    """What would make every submission of this form fail, said before anyone submits."""
    warnings = []
    targets = {f.target for f in form.fields.all()}
    if not targets & {"email", "phone"}:
        warnings.append(_("Add an e-mail or phone field: a lead needs a way to reach the person."))
    if not form.is_active:
        warnings.append(_("This form is switched off; its page answers “not found”."))
    return warnings
