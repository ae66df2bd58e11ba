"""The synchronous answer to an HTTP POST, in the caller's own format (XML in, XML out)."""

from __future__ import annotations

import json
import re
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from django.http import HttpRequest, HttpResponse

from leadloop.intake import throttle
from leadloop.intake.models import Disposition, RawSubmission, SubmissionState
from leadloop.problems import PROBLEM_TYPE_BASE

# Characters XML 1.0 cannot carry, even escaped; a sender's text echoed in an answer (a field
# name, a reason) may hold them, and one of them would make the whole answer unreadable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(root: str, body: dict[str, Any]) -> bytes:
    """`body` as an XML document: a key per element, a list as <error> items (RFC 7807's XML
    form for problems, in its namespace)."""

    def fill(parent: Element, name: str, value: Any) -> None:
        node = SubElement(parent, name)
        if isinstance(value, list):
            for item in value:
                fill(node, "error", item)
        elif isinstance(value, dict):
            for key, item in value.items():
                fill(node, key, item)
        else:
            node.text = _NOT_XML.sub("\ufffd", "" if value is None else str(value))

    document = Element(root, {"xmlns": "urn:ietf:rfc:7807"} if root == "problem" else {})
    for key, value in body.items():
        fill(document, key, value)
    return tostring(document, encoding="UTF-8", xml_declaration=True, short_empty_elements=False)


def respond(
    request: HttpRequest, body: dict[str, Any], *, status: int, as_xml: bool, problem: bool
) -> HttpResponse:
    """A JSON or XML answer; problems are RFC 9457 (application/problem+json or +xml)."""
    if as_xml:
        kind = "application/problem+xml" if problem else "application/xml"
        return HttpResponse(
            _xml("problem" if problem else "result", body), status=status, content_type=kind
        )
    kind = "application/problem+json" if problem else "application/json"
    return HttpResponse(
        json.dumps(body, ensure_ascii=False, default=str), status=status, content_type=kind
    )


def problem(
    request: HttpRequest,
    *,
    status: int,
    title: str,
    detail: str,
    as_xml: bool,
    kind: str,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    body = {
        "type": PROBLEM_TYPE_BASE + kind,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
        **(extra or {}),
    }
    return respond(request, body, status=status, as_xml=as_xml, problem=True)


def throttled(
    request: HttpRequest,
    *,
    retry_after: int,
    as_xml: bool,
    detail: str = "Too many requests from this address. Try again later.",
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """429 with Retry-After (seconds), as problem details."""
    response = problem(
        request, status=429, title="Too many requests", detail=detail, as_xml=as_xml,
        kind="throttled", extra={"retry_after": retry_after, **(extra or {})},
    )  # fmt: skip
    response["Retry-After"] = str(retry_after)
    return response


def outcome(request: HttpRequest, submission: RawSubmission, *, as_xml: bool) -> HttpResponse:
    """201 for a new lead, 200 for a repeat, 422 for a rejection, 400 for a quarantined payload,
    429 for a post over a rate limit (stored, not processed)."""
    if submission.state == SubmissionState.THROTTLED:
        return throttled(
            request,
            retry_after=throttle.retry_after(submission.meta),
            as_xml=as_xml,
            detail="; ".join(r["message"] for r in submission.reasons)
            + " The post was stored; send it again after Retry-After.",
            extra={"submission_id": submission.pk, "disposition": "throttled"},
        )
    if submission.state == SubmissionState.PROCESSED:
        created = submission.disposition == "accepted"
        body = {
            "submission_id": submission.pk,
            "lead_id": submission.lead_id,
            "disposition": submission.disposition,
        }
        return respond(request, body, status=201 if created else 200, as_xml=as_xml, problem=False)
    errors = [
        {
            "field": r.get("field", ""),
            "pointer": f"#/{r['field']}" if r.get("field") else "",
            "detail": r["message"],
        }
        for r in submission.reasons
    ]
    if submission.state == SubmissionState.REJECTED:
        return problem(
            request,
            status=422,
            title="Lead rejected",
            detail="; ".join(r["message"] for r in submission.reasons) or "The lead is not valid.",
            as_xml=as_xml,
            kind="rejected",
            extra={"submission_id": submission.pk, "disposition": "rejected", "errors": errors},
        )
    if (
        submission.state == SubmissionState.QUARANTINED
        and submission.disposition == Disposition.REVIEW
    ):
        # The source keeps refused leads for a person: the sender is done, nothing to resend.
        held: dict[str, Any] = {
            "submission_id": submission.pk,
            "disposition": "review",
            "detail": "Kept for a person to review: "
            + "; ".join(r["message"] for r in submission.reasons),
            "errors": errors,
        }
        return respond(request, held, status=202, as_xml=as_xml, problem=False)
    if submission.state == SubmissionState.QUARANTINED:
        return problem(
            request,
            status=400,
            title="Payload not readable",
            detail="; ".join(r["message"] for r in submission.reasons)
            or "The payload is not readable.",
            as_xml=as_xml,
            kind="quarantined",
            extra={"submission_id": submission.pk, "disposition": "quarantined", "errors": errors},
        )
    # Still `received`: stored safely, to be processed by the worker.
    return respond(
        request,
        {"submission_id": submission.pk, "disposition": "received"},
        status=202,
        as_xml=as_xml,
        problem=False,
    )
