"""The pages' own stylesheet and script are served."""

import pytest

pytestmark = pytest.mark.e2e


def test_stylesheet_and_htmx_are_served(page, live_server, users, sign_in):
    failed = []

    def note_failure(response):
        if "/static/" in response.url and response.status >= 400:
            failed.append((response.status, response.url))

    page.on("response", note_failure)
    page.goto(f"{live_server.url}/accounts/login/")
    hrefs = page.evaluate(
        "[...document.querySelectorAll('link[rel=stylesheet], script[src]')]"
        ".map(e => e.href || e.src)"
    )
    assert any(h.endswith("linli.css") for h in hrefs)
    assert any("htmx" in h for h in hrefs)
    for href in hrefs:
        response = page.request.get(href)
        assert response.status == 200, f"{href}: {response.status}"
    assert not failed, failed
    # The stylesheet is in force and htmx is loaded.
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(245, 247, 250)"
    assert page.evaluate("typeof window.htmx") == "object"
