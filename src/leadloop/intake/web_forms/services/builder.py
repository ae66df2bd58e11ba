"""Building web forms (marketing, admins): the form, its questions, and the source mapping
that reads them."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import AuditAction, AuditTarget
from leadloop.accounts.permissions import Permission, require
from leadloop.errors import ValidationFailed
from leadloop.intake import services as intake_services
from leadloop.intake.mapping import EXTRA, TARGETS
from leadloop.intake.synonyms import field_for_label
from leadloop.intake.web_forms.models import FieldInput, FormField, LeadForm, supported_languages
from leadloop.intake.web_forms.services.languages import (
    FIELD_TEXTS,
    FORM_TEXTS,
    clean_languages,
    clean_translations,
    stock_label,
    swap_default,
)
from leadloop.intake.web_forms.services.targets import FORM_TARGETS, TARGET_LABELS
from leadloop.intake.web_forms.services.tokens import RESERVED_NAMES
from leadloop.leads.models import ChannelKind, Source

logger = logging.getLogger(__name__)


EXTRA_PREFIX = "extra:"
CONSENT_TARGETS = ("consent_purpose", "consent_at", "consent_text_version")
# The language the visitor saw the form in fills the lead's language (for later mails).
LANGUAGE_TARGET = "language"
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
    entries.setdefault(LANGUAGE_TARGET, LANGUAGE_TARGET)
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
    _clean_form_languages(form)
    _full_clean(form)
    form.save()
    if with_starter_fields:
        # Labels in the form's own language; its other languages read the app's translation.
        with translation.override(form.language):
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
    previous_language = locked.language
    for name, value in data.items():
        setattr(locked, name, value)
    if "source" in data and locked.source.kind != ChannelKind.WEB_FORM:
        raise ValidationFailed(
            _("A form belongs to a source of the kind web form."),
            errors={"source": [_("Choose a source of the kind web form.")]},
        )
    _clean_form_languages(locked)
    if locked.language != previous_language:
        _change_default_language(locked, old=previous_language)
    _full_clean(locked)
    locked.save()
    _ensure_mapping(locked, by=by)
    _audit_form(locked, by=by, change="settings", fields=sorted(data))
    return locked


def _clean_form_languages(form: LeadForm) -> None:
    """The form's languages and translations as stored, or the errors in them."""
    errors: dict[str, list[str]] = {}
    if form.language not in supported_languages():
        errors["language"] = [_("Choose one of the languages the app speaks.")]
    form.languages = clean_languages(form.language, list(form.languages or []))
    form.translations = clean_translations(form.translations, lengths=FORM_TEXTS, errors=errors)
    if errors:
        raise ValidationFailed(_("Please correct the fields marked below."), errors=errors)


def _change_default_language(form: LeadForm, *, old: str) -> None:
    """Make the form's (new) default language the one of its text columns, for the form and
    each question; a text not yet translated keeps its old wording."""
    swap_default(form, old=old, new=form.language, names=FORM_TEXTS)
    for field in FormField.objects.select_for_update().filter(form_id=form.pk):
        stock = stock_label(field, written_in=old, language=form.language)
        translations = {k: dict(v) for k, v in (field.translations or {}).items()}
        if stock and not translations.get(form.language, {}).get("label"):
            translations.setdefault(form.language, {})["label"] = stock
        field.translations = translations
        swap_default(field, old=old, new=form.language, names=FIELD_TEXTS)
        field.save(update_fields=["label", "help_text", "translations"])


def _check_field(field: FormField) -> None:
    errors: dict[str, list[str]] = {}
    field.translations = clean_translations(field.translations, lengths=FIELD_TEXTS, errors=errors)
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
