"""Secure mode (LEADLOOP_SECURE_COOKIES=true): HTTPS only, HSTS, and a clean `check --deploy`.

The settings are read once per process, so the environment's effect is checked in a fresh one.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys

import pytest

from tests.web.test_security_headers import STRICT

# The variables secure mode reads; the test's own environment must not leak into a case.
HTTPS_VARIABLES = (
    "LEADLOOP_SECURE_COOKIES", "LEADLOOP_SSL_REDIRECT", "LEADLOOP_HSTS_",
    "LEADLOOP_PROXY_SSL_HEADER", "LEADLOOP_TRUSTED_PROXIES",
)  # fmt: skip


def test_secure_mode_passes_the_deploy_check(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(HTTPS_VARIABLES)},
        "LEADLOOP_VAR_DIR": str(tmp_path),
        "LEADLOOP_SECURE_COOKIES": "true",
        "LEADLOOP_SECRET_KEY": secrets.token_urlsafe(60),
        "LEADLOOP_DEBUG": "false",
        "LEADLOOP_ALLOWED_HOSTS": "leads.example.com",
    }

    result = subprocess.run(
        [sys.executable, "-m", "leadloop.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (1 silenced)."


def _settings_with(tmp_path, **env: str) -> dict[str, object]:
    """The settings a fresh process reads from this environment."""
    names = [
        "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "CSRF_COOKIE_HTTPONLY",
        "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD", "SECURE_PROXY_SSL_HEADER", "SILENCED_SYSTEM_CHECKS",
    ]  # fmt: skip
    code = (
        "import json; from leadloop import settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {names!r}}}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(HTTPS_VARIABLES)}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "LEADLOOP_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_secure_mode_turns_on_https_only_cookies_redirects_and_hsts(tmp_path):
    values = _settings_with(tmp_path, LEADLOOP_SECURE_COOKIES="true")

    assert values == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": False,
        "SECURE_PROXY_SSL_HEADER": None,
        "SILENCED_SYSTEM_CHECKS": ["security.W021"],
    }


def test_without_secure_mode_nothing_insists_on_https(tmp_path):
    values = _settings_with(tmp_path, LEADLOOP_HSTS_SECONDS="600")

    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["CSRF_COOKIE_SECURE"] is False
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0


def test_secure_mode_settings_follow_the_environment(tmp_path):
    values = _settings_with(
        tmp_path,
        LEADLOOP_SECURE_COOKIES="true",
        LEADLOOP_SSL_REDIRECT="false",
        LEADLOOP_HSTS_SECONDS="600",
        LEADLOOP_HSTS_INCLUDE_SUBDOMAINS="false",
        LEADLOOP_HSTS_PRELOAD="true",
        LEADLOOP_PROXY_SSL_HEADER="X-Forwarded-Scheme",
    )

    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert values["SECURE_HSTS_PRELOAD"] is True
    assert values["SILENCED_SYSTEM_CHECKS"] == []
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_SCHEME", "https"]


def test_trusted_proxies_bring_the_forwarded_proto_header_unless_turned_off(tmp_path):
    behind = _settings_with(tmp_path, LEADLOOP_TRUSTED_PROXIES="10.0.0.0/8")
    off = _settings_with(
        tmp_path, LEADLOOP_TRUSTED_PROXIES="10.0.0.0/8", LEADLOOP_PROXY_SSL_HEADER="none"
    )

    assert behind["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert off["SECURE_PROXY_SSL_HEADER"] is None


@pytest.fixture
def secure_mode(settings):
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


def test_in_secure_mode_plain_http_is_redirected(client, secure_mode):
    response = client.get("/login/?next=/leads/")

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/login/?next=/leads/"
    assert response["Content-Security-Policy"] == STRICT


def test_in_secure_mode_https_pages_carry_hsts_and_secure_cookies(client, db, secure_mode):
    response = client.get("/login/", headers={"X-Forwarded-Proto": "https"})

    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert response["Content-Security-Policy"] == STRICT
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    cookie = response.cookies["csrftoken"]
    assert (cookie["secure"], cookie["httponly"], cookie["samesite"]) == (True, True, "Lax")
