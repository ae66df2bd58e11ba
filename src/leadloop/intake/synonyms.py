"""English and Dutch names senders use for lead fields, and how to recognise them.

Every channel that reads labelled data (form posts, "Label: value" mails, spreadsheet headers,
feed entries) maps a label to a lead field through `field_for_label`. A label is compared in its
folded form: lower case, no accents, only letters and digits ("E-mailadres" → "emailadres").

The table holds the labels of English and Dutch forms and mails, and the column names of the
exports people bring from other CRMs and ad platforms (Salesforce, HubSpot in English, Dutch,
German and French, Zoho, Odoo, Teamleader, Meta, LinkedIn and Google lead forms);
tests/intake/test_export_headers.py holds their header lines. Headers of the shape
"Entity - Field" (Pipedrive: "Person - Email - Work", "Organization - Name"; also "Lead: Email")
are read by their entity: a person's, contact's or lead's field is looked up like any label, an
organisation's name is the company, and the other entities' fields (a deal's title, an
organisation's website) are not lead fields. A first word such as "Home", "Work" or "Business"
is skipped when the label is not known as a whole ("Work Email" is an e-mail address).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# lead field → labels seen in real exports, forms and provider mails (English and Dutch).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "first_name": (
        "first_name", "first name", "firstname", "given name", "givenname", "fname", "forename",
        "voornaam", "roepnaam", "voorletters", "N.given",
        "vorname", "prénom",
    ),
    "last_name": (
        "last_name", "last name", "lastname", "surname", "family name", "familyname", "lname",
        "achternaam", "familienaam", "N.family",
        "nachname", "familienname", "nom", "nom de famille",
    ),
    "full_name": ("name", "full name", "fullname", "your name", "contact name", "naam",
                  "volledige naam", "uw naam", "je naam", "contactpersoon", "FN",
                  "naam contactpersoon", "nom complet", "consumer name", "customer name",
                  "client name", "lead name", "prospect name", "requester name", "klantnaam",
                  "naam klant", "naam aanvrager", "naam geinteresseerde", "name of the consumer"),
    "email": (
        "email", "e-mail", "email address", "e-mail address", "emailaddress", "mail", "your email",
        "your-email", "e-mailadres", "emailadres", "mailadres", "uw e-mailadres", "je e-mailadres",
        "user email", "e-mail-adresse", "adresse e-mail", "courriel",
    ),
    "phone": (
        "phone", "phone number", "phonenumber", "telephone", "tel", "mobile", "mobile phone",
        "cell", "your phone", "telefoon", "telefoonnummer", "mobiel", "mobiele nummer",
        "mobiel nummer", "gsm", "user phone", "telefon", "telefonnummer",
        "numéro de téléphone", "téléphone",
    ),
    "company_name": (
        "company", "company name", "companyname", "organization", "organisation", "account",
        "account name", "associated company", "business", "bedrijf", "bedrijfsnaam", "ORG",
        "organisatie", "firma", "unternehmen", "name des unternehmens", "firmenname",
        "entreprise", "nom de l'entreprise", "société",
    ),
    "job_title": ("job title", "jobtitle", "title", "position", "role", "function", "functie",
                  "functietitel", "rol", "job position", "berufsbezeichnung", "fonction",
                  "intitulé du poste", "poste"),
    "street": ("street", "address", "street address", "address line 1", "straat", "adres",
               "straatnaam", "ADR.street", "mailing street", "street/road name", "adresse",
               "straße", "adresse postale", "rue"),
    "house_number": ("house number", "street number", "housenumber", "number", "huisnummer", "nr"),
    "postal_code": ("postal code", "postalcode", "postcode", "zip", "zip code", "zipcode",
                    "post code", "ADR.code", "zip/postal code", "mailing zip/postal code",
                    "postleitzahl", "plz", "code postal"),
    "city": ("city", "town", "city/town", "place", "locality", "plaats", "woonplaats", "stad",
             "gemeente", "ADR.city", "mailing city", "stadt", "ort", "ville", "localité"),
    "region": ("region", "state", "province", "county", "regio", "provincie", "state region",
               "ADR.region", "state/province", "state/county", "mailing state/province",
               "staat/regio", "bundesland", "bundesland/region", "état/région"),
    "country": ("country", "country code", "country region", "countryregion", "land",
                "landcode", "cc", "ADR.country", "mailing country", "land/regio", "land/region",
                "pays", "pays/région"),
    "language": ("language", "lang", "locale", "taal", "voorkeurstaal", "preferred language",
                 "sprache", "bevorzugte sprache", "langue", "langue préférée"),
    "external_ref": ("id", "lead id", "leadid", "record id", "recordid", "reference", "ref",
                     "external id", "referentie", "kenmerk", "relatienummer", "datensatz-id",
                     "id de fiche d'informations"),
    "utm_source": ("utm_source", "utm source"),
    "utm_medium": ("utm_medium", "utm medium"),
    "utm_campaign": ("utm_campaign", "utm campaign"),
    "utm_term": ("utm_term", "utm term"),
    "utm_content": ("utm_content", "utm content"),
    "referrer": ("referrer", "referer", "http referer", "verwijzer"),
    "landing_page": ("landing page", "landingpage", "page url", "page", "url", "form url",
                     "landingspagina"),
    "comments": ("comments", "comment", "message", "your message", "your-message", "remarks",
                 "notes", "question", "opmerkingen", "opmerking", "bericht", "vraag",
                 "toelichting", "commentaar", "notitie", "notities", "description",
                 "beschreibung", "notizen", "message body", "your question", "uw vraag",
                 "je vraag", "je bericht", "uw bericht"),
    "campaign": ("campaign", "campaign name", "campaignname", "campagne", "actie"),
    "consent_purpose": ("consent", "gdpr consent", "opt in", "optin", "toestemming",
                        "akkoord"),
    # Only labels that ask a yes/no question: a bare "Budget" column holds an amount.
    "bant_budget": ("bant_budget", "has budget", "budget available", "budget beschikbaar"),
    "bant_authority": ("bant_authority", "decision maker", "decision-maker", "beslisser",
                       "beslissingsbevoegd"),
    "bant_need": ("bant_need", "has need"),
    "bant_timeframe": ("bant_timeframe", "buying soon", "koopt binnenkort"),
}  # fmt: skip

_NON_WORD = re.compile(r"[\W_]+")


def fold_label(label: str) -> str:
    """The comparable form of a label: 'E-mail adres ' → 'emailadres'."""
    decomposed = unicodedata.normalize("NFKD", label.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub("", plain)


@lru_cache(maxsize=1)
def _index() -> dict[str, str]:
    index: dict[str, str] = {}
    for field, labels in SYNONYMS.items():
        for label in labels:
            index.setdefault(fold_label(label), field)
    return index


# "Entity - Field" headers: the entity names whose fields are the lead's own, and the ones
# whose name is the lead's company. Folded, like the labels.
PERSON_ENTITIES = frozenset(
    {"person", "contact", "lead", "persoon", "contactpersoon", "kontakt", "personne"}
)
ORGANIZATION_ENTITIES = frozenset(
    {
        "organization", "organisation", "company", "account", "organisatie", "bedrijf",
        "unternehmen", "entreprise", "societe",
    }
)  # fmt: skip
ORGANIZATION_NAME_LABELS = frozenset({"name", "naam", "companyname", "nom"})
# A first word that only says which of several a column is: "Home Country", "Work Email",
# "Business Phone" (Outlook, LinkedIn and Google lead forms).
QUALIFIERS = frozenset(
    {"home", "work", "business", "mailing", "primary", "private", "prive", "werk", "zakelijk"}
)
# " - ", " – ", " — " (with spaces, so "E-mail" stays whole), ":" and "|".
_ENTITY_SEPARATOR = re.compile(r"\s+[-–—]\s+|\s*[:|]\s*")


def field_for_label(label: str) -> str | None:
    """The lead field a label names, or None when it is not a known synonym."""
    index = _index()
    field = index.get(fold_label(label))
    if field is None and len(label) <= 200:
        field = _prefixed_field(label, index)
        first, _space, rest = label.strip().partition(" ")
        if field is None and rest and fold_label(first) in QUALIFIERS:
            field = index.get(fold_label(rest))
    return field


def _prefixed_field(label: str, index: dict[str, str]) -> str | None:
    """The field of an "Entity - Field[ - Kind]" header, or None."""
    entity, *rest = [part for part in _ENTITY_SEPARATOR.split(label.strip()) if part]
    if not rest:
        return None
    entity = fold_label(entity)
    if entity in ORGANIZATION_ENTITIES:
        return "company_name" if fold_label(rest[0]) in ORGANIZATION_NAME_LABELS else None
    if entity not in PERSON_ENTITIES:
        return None
    # "Postal address - City/town": the last part names the field; "Email - Work": the first.
    for part in (" ".join(rest), rest[-1], rest[0]):
        field = index.get(fold_label(part))
        if field is not None:
            return field
    return None
