"""The header lines of the exports people bring from other CRMs and ad platforms map by themselves.

Each format is its export's header line with the lead field each column should fill; every other
column has no lead field, or one an earlier column already fills, so its values stay in the
lead's extra fields. The header lines are the products' standard field names for a lead,
contact or person export, in the languages named; the real files in ../shared/data/exports are
read by the tests at the end. The import keeps a field for its first column only ("Phone" before
"Mobile"), so a later column naming a taken field expects None.
"""

from __future__ import annotations

import csv

import pytest

from leadloop.intake.imports.bulk import import_file
from leadloop.intake.imports.reader import suggest_mapping
from leadloop.intake.synonyms import field_for_label
from leadloop.leads.models import ChannelKind, Lead
from tests.conftest import shared_data_path
from tests.factories.leads import make_source

FORMATS: dict[str, tuple[str, dict[str, str]]] = {
    "salesforce_report": (
        "Lead ID,Salutation,First Name,Last "
        "Name,Title,Company,Email,Phone,Mobile,Street,City,State/Province,Zip/Postal "
        "Code,Country,Lead Source,Lead Status,Industry,Website,Description,Lead "
        "Owner,Create Date",
        {
            "Lead ID": "external_ref",
            "First Name": "first_name",
            "Last Name": "last_name",
            "Title": "job_title",
            "Company": "company_name",
            "Email": "email",
            "Phone": "phone",
            "Street": "street",
            "City": "city",
            "State/Province": "region",
            "Zip/Postal Code": "postal_code",
            "Country": "country",
            "Description": "comments",
        },
    ),
    "salesforce_api": (
        "Id,FirstName,LastName,Title,Company,Email,Phone,MobilePhone,Street,City,State,PostalCode,Country,LeadSource,Status,Website,Description,OwnerId",
        {
            "Id": "external_ref",
            "FirstName": "first_name",
            "LastName": "last_name",
            "Title": "job_title",
            "Company": "company_name",
            "Email": "email",
            "Phone": "phone",
            "Street": "street",
            "City": "city",
            "State": "region",
            "PostalCode": "postal_code",
            "Country": "country",
            "Description": "comments",
        },
    ),
    "salesforce_contacts": (
        "First Name,Last Name,Email,Phone,Account Name,Mailing Street,Mailing "
        "City,Mailing State/Province,Mailing Zip/Postal Code,Mailing Country,Last "
        "Activity",
        {
            "First Name": "first_name",
            "Last Name": "last_name",
            "Email": "email",
            "Phone": "phone",
            "Account Name": "company_name",
            "Mailing Street": "street",
            "Mailing City": "city",
            "Mailing State/Province": "region",
            "Mailing Zip/Postal Code": "postal_code",
            "Mailing Country": "country",
        },
    ),
    "hubspot_en": (
        "Record ID,First Name,Last Name,Email,Phone Number,Mobile Phone Number,Company "
        "Name,Job Title,Street Address,City,State/Region,Postal "
        "Code,Country/Region,Preferred language,Lifecycle Stage,Lead Status,Contact "
        "owner,Create Date,Website URL",
        {
            "Record ID": "external_ref",
            "First Name": "first_name",
            "Last Name": "last_name",
            "Email": "email",
            "Phone Number": "phone",
            "Company Name": "company_name",
            "Job Title": "job_title",
            "Street Address": "street",
            "City": "city",
            "State/Region": "region",
            "Postal Code": "postal_code",
            "Country/Region": "country",
            "Preferred language": "language",
        },
    ),
    "hubspot_nl": (
        "Record-ID,Voornaam,Achternaam,E-mail,Telefoonnummer,Mobiel "
        "telefoonnummer,Bedrijfsnaam,Functie,Adres,Plaats,Staat/regio,Postcode,Land/regio,Voorkeurstaal,Levenscyclusfase,Leadstatus,Eigenaar"
        " contactpersoon,Aanmaakdatum",
        {
            "Record-ID": "external_ref",
            "Voornaam": "first_name",
            "Achternaam": "last_name",
            "E-mail": "email",
            "Telefoonnummer": "phone",
            "Bedrijfsnaam": "company_name",
            "Functie": "job_title",
            "Adres": "street",
            "Plaats": "city",
            "Staat/regio": "region",
            "Postcode": "postal_code",
            "Land/regio": "country",
            "Voorkeurstaal": "language",
        },
    ),
    "hubspot_de": (
        "Datensatz-ID,Vorname,Nachname,E-Mail,Telefonnummer,Mobiltelefonnummer,Name des "
        "Unternehmens,Berufsbezeichnung,Adresse,Stadt,Bundesland/Region,Postleitzahl,Land/Region,Bevorzugte"
        " Sprache,Phase im Lebenszyklus,Lead-Status,Kontaktinhaber,Erstellungsdatum",
        {
            "Datensatz-ID": "external_ref",
            "Vorname": "first_name",
            "Nachname": "last_name",
            "E-Mail": "email",
            "Telefonnummer": "phone",
            "Name des Unternehmens": "company_name",
            "Berufsbezeichnung": "job_title",
            "Adresse": "street",
            "Stadt": "city",
            "Bundesland/Region": "region",
            "Postleitzahl": "postal_code",
            "Land/Region": "country",
            "Bevorzugte Sprache": "language",
        },
    ),
    "hubspot_fr": (
        "ID de fiche d'informations,Prénom,Nom,E-mail,Numéro de téléphone,Numéro de "
        "téléphone mobile,Nom de l'entreprise,Intitulé du poste,Adresse "
        "postale,Ville,État/Région,Code postal,Pays/région,Langue préférée,Phase du cycle"
        " de vie,Statut du lead,Propriétaire du contact,Date de création",
        {
            "ID de fiche d'informations": "external_ref",
            "Prénom": "first_name",
            "Nom": "last_name",
            "E-mail": "email",
            "Numéro de téléphone": "phone",
            "Nom de l'entreprise": "company_name",
            "Intitulé du poste": "job_title",
            "Adresse postale": "street",
            "Ville": "city",
            "État/Région": "region",
            "Code postal": "postal_code",
            "Pays/région": "country",
            "Langue préférée": "language",
        },
    ),
    "pipedrive": (
        "Person - Name,Person - First name,Person - Last name,Person - Email - "
        "Work,Person - Email - Home,Person - Phone - Work,Person - Phone - Mobile,Person "
        "- Job title,Person - Organization,Person - Postal address,Person - Postal "
        "address - Street/road name,Person - Postal address - City/town,Person - Postal "
        "address - ZIP/Postal code,Person - Postal address - Country,Person - "
        "Owner,Organization - Name,Organization - Address,Organization - Website,Deal - "
        "Title,Deal - Value",
        {
            "Person - Name": "full_name",
            "Person - First name": "first_name",
            "Person - Last name": "last_name",
            "Person - Email - Work": "email",
            "Person - Phone - Work": "phone",
            "Person - Job title": "job_title",
            "Person - Organization": "company_name",
            "Person - Postal address - Street/road name": "street",
            "Person - Postal address - City/town": "city",
            "Person - Postal address - ZIP/Postal code": "postal_code",
            "Person - Postal address - Country": "country",
        },
    ),
    "zoho": (
        "Record Id,Lead Owner,Company,First Name,Last "
        "Name,Title,Email,Phone,Fax,Mobile,Website,Lead Source,Lead Status,Industry,No. "
        "of Employees,Annual Revenue,Rating,Email Opt Out,Skype ID,Salutation,Secondary "
        "Email,Twitter,Street,City,State,Zip Code,Country,Description,Created Time",
        {
            "Record Id": "external_ref",
            "Company": "company_name",
            "First Name": "first_name",
            "Last Name": "last_name",
            "Title": "job_title",
            "Email": "email",
            "Phone": "phone",
            "Street": "street",
            "City": "city",
            "State": "region",
            "Zip Code": "postal_code",
            "Country": "country",
            "Description": "comments",
        },
    ),
    "odoo_en": (
        "Opportunity,Contact Name,Email,Phone,Mobile,Customer,Company "
        "Name,Street,Street2,City,State,Zip,Country,Job "
        "Position,Website,Salesperson,Sales Team,Tags,Language,Notes",
        {
            "Contact Name": "full_name",
            "Email": "email",
            "Phone": "phone",
            "Company Name": "company_name",
            "Street": "street",
            "City": "city",
            "State": "region",
            "Zip": "postal_code",
            "Country": "country",
            "Job Position": "job_title",
            "Language": "language",
            "Notes": "comments",
        },
    ),
    "odoo_nl": (
        "Verkoopkans,Naam "
        "contactpersoon,E-mail,Telefoon,Mobiel,Klant,Bedrijfsnaam,Straat,Straat2,Plaats,Provincie,Postcode,Land,Functie,Website,Verkoper,Verkoopteam,Labels,Taal,Notities",
        {
            "Naam contactpersoon": "full_name",
            "E-mail": "email",
            "Telefoon": "phone",
            "Bedrijfsnaam": "company_name",
            "Straat": "street",
            "Plaats": "city",
            "Provincie": "region",
            "Postcode": "postal_code",
            "Land": "country",
            "Functie": "job_title",
            "Taal": "language",
            "Notities": "comments",
        },
    ),
    "teamleader_nl": (
        "Voornaam,Familienaam,E-mail,Telefoon,GSM,Bedrijf,Functie,Straat,Huisnummer,Postcode,Gemeente,Land,Taal,Tags,Geboortedatum",
        {
            "Voornaam": "first_name",
            "Familienaam": "last_name",
            "E-mail": "email",
            "Telefoon": "phone",
            "Bedrijf": "company_name",
            "Functie": "job_title",
            "Straat": "street",
            "Huisnummer": "house_number",
            "Postcode": "postal_code",
            "Gemeente": "city",
            "Land": "country",
            "Taal": "language",
        },
    ),
    "teamleader_en": (
        "First name,Last name,Email,Phone,Mobile,Company,Position,Street,Number,Postal "
        "code,City,Country,Language,Tags",
        {
            "First name": "first_name",
            "Last name": "last_name",
            "Email": "email",
            "Phone": "phone",
            "Company": "company_name",
            "Position": "job_title",
            "Street": "street",
            "Number": "house_number",
            "Postal code": "postal_code",
            "City": "city",
            "Country": "country",
            "Language": "language",
        },
    ),
    "meta_lead_ads": (
        "id,created_time,ad_id,ad_name,adset_id,adset_name,campaign_id,campaign_name,form_id,form_name,is_organic,platform,full_name,first_name,last_name,phone_number,email,work_email,company_name,job_title,street_address,city,state,province,zip_code,post_code,country,inbox_url,lead_status",
        {
            "id": "external_ref",
            "campaign_name": "campaign",
            "full_name": "full_name",
            "first_name": "first_name",
            "last_name": "last_name",
            "phone_number": "phone",
            "email": "email",
            "company_name": "company_name",
            "job_title": "job_title",
            "street_address": "street",
            "city": "city",
            "state": "region",
            "zip_code": "postal_code",
            "country": "country",
        },
    ),
    "linkedin_lead_gen": (
        "First Name,Last Name,Email Address,Phone Number,Company Name,Job "
        "Title,Country,City,State,Zip Code,LinkedIn Profile URL,Company "
        "Size,Industry,Seniority,Job Function,Work Email,Work Phone,Campaign Name,Form "
        "Name,Submitted At",
        {
            "First Name": "first_name",
            "Last Name": "last_name",
            "Email Address": "email",
            "Phone Number": "phone",
            "Company Name": "company_name",
            "Job Title": "job_title",
            "Country": "country",
            "City": "city",
            "State": "region",
            "Zip Code": "postal_code",
            "Campaign Name": "campaign",
        },
    ),
    "google_ads_lead_form": (
        "Lead Id,Campaign Id,Form Id,Full Name,First Name,Last Name,User Email,User "
        "Phone,Work Email,Work Phone,Company Name,Job Title,Street "
        "Address,City,Region,Postal Code,Country,Lead Submit Time",
        {
            "Lead Id": "external_ref",
            "Full Name": "full_name",
            "First Name": "first_name",
            "Last Name": "last_name",
            "User Email": "email",
            "User Phone": "phone",
            "Company Name": "company_name",
            "Job Title": "job_title",
            "Street Address": "street",
            "City": "city",
            "Region": "region",
            "Postal Code": "postal_code",
            "Country": "country",
        },
    ),
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_each_export_maps_its_person_and_company_columns(name):
    header_line, wanted = FORMATS[name]
    headers = next(csv.reader([header_line]))
    assert set(wanted) <= set(headers)

    got = suggest_mapping(headers)

    mapped = sum(1 for header, field in wanted.items() if got[header] == field)
    assert mapped / len(wanted) >= 0.95, {h: got[h] for h in wanted if got[h] != wanted[h]}
    # And nothing lands in a field it does not mean.
    assert {h: got[h] for h in headers if got[h] != wanted.get(h)} == {}


@pytest.mark.parametrize(
    ("label", "field"),
    [
        ("Person - Email - Work", "email"),
        ("Person - Phone - Mobile", "phone"),
        ("Person - Postal address - ZIP/Postal code", "postal_code"),
        ("Contact: First name", "first_name"),
        ("Lead | E-mailadres", "email"),
        ("Organization - Name", "company_name"),
        ("Organisatie - Naam", "company_name"),
        ("Organization - Website", None),
        ("Organization - Email", None),  # an organisation's address is not the person's
        ("Deal - Title", None),
        ("Deal - Value", None),
        ("E-mail", "email"),  # a hyphen without spaces is no separator
        ("Nieuwsbrief - E-mail", None),  # an unknown entity names nothing
        ("Person - ", None),
        (" - Email", "email"),
        ("Person" + " - x" * 500, None),
        ("Work Email", "email"),
        ("Home Country", "country"),
        ("Business Phone", "phone"),
        ("Home", None),
        ("Work Order", None),
    ],
)
def test_entity_prefixed_headers(label, field):
    assert field_for_label(label) == field


def test_a_pipedrive_export_imports_as_leads(db, marketing, settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    source = make_source("Pipedrive", kind=ChannelKind.IMPORT)
    path = shared_data_path("exports", "pipedrive_org_person_export_sv.csv")

    report = import_file(path, source=source, by=marketing)

    assert (report.created, report.rejected) == (1, 0)
    lead = Lead.objects.get()
    assert (lead.company_name, lead.first_name, lead.email) == (
        "Bygg AB, Väst",
        "Anna",
        "anna@bygg.se",
    )
    assert lead.extra == {"Organization - Website": "bygg.se"}


@pytest.mark.parametrize(
    ("filename", "fields"),
    [
        (
            "salesforce_leads_export_header.csv",
            {"first_name", "last_name", "email", "phone", "company_name"},
        ),
        (
            "salesforce_contacts_report_export.csv",
            {
                "first_name",
                "last_name",
                "email",
                "phone",
                "company_name",
                "city",
                "region",
                "postal_code",
            },
        ),
        (
            "hubspot_contacts_export_messy.csv",
            {"first_name", "last_name", "email", "phone", "company_name", "country"},
        ),
        ("facebook_lead_ads_export_header_real.csv", {"full_name", "email", "phone", "campaign"}),
        (
            "outlook_contacts_export_header.csv",
            {
                "first_name",
                "last_name",
                "email",
                "phone",
                "company_name",
                "job_title",
                "city",
                "region",
                "postal_code",
                "country",
            },
        ),
        ("nl_sportlink_members_export.csv", {"first_name", "last_name", "email"}),
    ],
)
def test_real_export_headers_map_their_contact_columns(filename, fields):
    with open(shared_data_path("exports", filename), encoding="utf-8-sig") as handle:
        header = next(iter(handle)).rstrip("\r\n")
    mapping = suggest_mapping(next(csv.reader([header])))

    assert fields <= set(mapping.values())
