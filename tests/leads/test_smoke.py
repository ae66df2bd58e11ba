from leadloop.leads.models import Activity, ActivityKind, Lead
from tests.factories.leads import make_lead


def test_created_lead_is_searchable_by_phone_prefix(source):
    lead = make_lead(source, phone="06 12345678", email="Ann@Example.COM")

    assert lead.phone_e164 == "+31612345678"
    assert Lead.objects.count() == 1
    assert Activity.objects.filter(lead=lead, kind=ActivityKind.CREATED).count() == 1
