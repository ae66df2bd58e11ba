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


def test_a_garbled_header_is_not_a_crash():
    kind, params = media_type('"\x00; =; ==x; \udcff')
    assert isinstance(kind, str)
    assert isinstance(params, dict)


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
