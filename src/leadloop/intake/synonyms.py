"""English and Dutch names senders use for lead fields, and how to recognise them.

Every channel that reads labelled data (form posts, "Label: value" mails, spreadsheet headers,
feed entries) maps a label to a lead field through `field_for_label`. A label is compared in its
folded form: lower case, no accents, only letters and digits ("E-mailadres" → "emailadres").
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
    ),
    "last_name": (
        "last_name", "last name", "lastname", "surname", "family name", "familyname", "lname",
        "achternaam", "familienaam", "N.family",
    ),
    "full_name": ("name", "full name", "fullname", "your name", "contact name", "naam",
                  "volledige naam", "uw naam", "je naam", "contactpersoon", "FN"),
    "email": (
        "email", "e-mail", "email address", "e-mail address", "emailaddress", "mail", "your email",
        "your-email", "e-mailadres", "emailadres", "mailadres", "uw e-mailadres", "je e-mailadres",
    ),
    "phone": (
        "phone", "phone number", "phonenumber", "telephone", "tel", "mobile", "mobile phone",
        "cell", "your phone", "telefoon", "telefoonnummer", "mobiel", "mobiele nummer",
        "mobiel nummer", "gsm",
    ),
    "company_name": (
        "company", "company name", "companyname", "organization", "organisation", "account",
        "account name", "associated company", "business", "bedrijf", "bedrijfsnaam", "ORG",
        "organisatie", "firma",
    ),
    "job_title": ("job title", "jobtitle", "title", "position", "role", "function", "functie",
                  "functietitel", "rol"),
    "street": ("street", "address", "street address", "address line 1", "straat", "adres",
               "straatnaam", "ADR.street"),
    "house_number": ("house number", "housenumber", "number", "huisnummer", "nr"),
    "postal_code": ("postal code", "postalcode", "postcode", "zip", "zip code", "zipcode",
                    "post code", "ADR.code"),
    "city": ("city", "town", "place", "locality", "plaats", "woonplaats", "stad", "gemeente",
             "ADR.city"),
    "region": ("region", "state", "province", "county", "regio", "provincie", "state region",
               "ADR.region"),
    "country": ("country", "country code", "country region", "countryregion", "land",
                "landcode", "cc", "ADR.country"),
    "language": ("language", "lang", "locale", "taal", "voorkeurstaal"),
    "external_ref": ("id", "lead id", "leadid", "record id", "recordid", "reference", "ref",
                     "external id", "referentie", "kenmerk", "relatienummer"),
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
                 "toelichting", "commentaar", "notitie"),
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


def field_for_label(label: str) -> str | None:
    """The lead field a label names, or None when it is not a known synonym."""
    return _index().get(fold_label(label))
