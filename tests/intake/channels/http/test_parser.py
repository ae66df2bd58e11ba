import pytest

from leadloop.intake.channels.http.parser import is_xml, media_type


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Application/JSON; charset=UTF-8", ("application/json", {"charset": "UTF-8"})),
        (
            'text/plain; CHARSET="utf-8"; format=flowed',
            ("text/plain", {"charset": "utf-8", "format": "flowed"}),
        ),
        ('multipart/form-data; boundary="a;b"', ("multipart/form-data", {"boundary": "a;b"})),
        ("application/xml", ("application/xml", {})),
        ("", ("", {})),
        (";;;", ("", {})),
        ("application/json; charset", ("application/json", {"charset": ""})),
    ],
)  # fmt: skip
def test_media_type_reads_the_header_as_django_does(header, expected):
    assert media_type(header) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        # An unclosed quote swallows the ";" after it (Django reads it so): an unknown type.
        ('"\x00; =; ==x; \udcff', ('"\x00;', {})),
        ("garbage", ("garbage", {})),
        ('text/html; ;; charset="utf-8', ("text/html", {"charset": '"utf-8'})),
    ],
)
def test_a_garbled_header_is_read_without_a_crash(header, expected):
    assert media_type(header) == expected


@pytest.mark.parametrize(
    ("header", "body", "expected"),
    [
        ("Text/XML; charset=iso-8859-1", b"<lead/>", True),
        ("application/json", b"{}", False),
        ("", b"<?xml version='1.0'?><lead/>", True),
    ],
)
def test_is_xml(header, body, expected):
    assert is_xml(header, body) is expected
