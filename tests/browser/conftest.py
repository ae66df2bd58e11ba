"""Playwright drives Debian's Chromium (never a downloaded browser) against Django's live_server."""

from __future__ import annotations

import os

import pytest

# Every browser test runs under the enforced Content-Security-Policy and fails on a violation:
# each page reports its `securitypolicyviolation` events to the test as they happen, and
# Chromium's "… violates the following Content Security Policy directive" console lines catch
# what no event reaches the document for (an element that is not in the page, such as one
# htmx is still settling).
WATCH_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__reportViolation(
    `${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}` +
    ` on ${document.location.pathname}: ${event.sample}`
  );
});
"""

CHROMIUM = os.environ.get("LEADLOOP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM} (set LEADLOOP_CHROMIUM)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB", "timezone_id": "Europe/Amsterdam"}


@pytest.fixture
def log_in(live_server):
    """Log `page` in through the real form as `username`."""

    def run(page, username: str, password: str = "correct-horse-9") -> None:
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("User name").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server.url}/")

    return run


@pytest.fixture(autouse=True)
def _no_csp_violations(request):
    if "page" not in request.fixturenames:
        yield
        return
    page = request.getfixturevalue("page")
    violations: list[str] = []
    page.expose_function("__reportViolation", lambda text: violations.append(text))
    page.on(
        "console",
        lambda m: (
            violations.append(f"{m.text} {m.location['url']}")
            if "Content Security Policy" in m.text
            else None
        ),
    )
    page.add_init_script(WATCH_VIOLATIONS)
    yield
    assert violations == []
