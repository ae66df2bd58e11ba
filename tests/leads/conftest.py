import pytest

from leadloop.leads import services


@pytest.fixture
def lost_reason(db):
    return services.get_or_create_lost_reason("Too expensive")
