"""The end of every journey: the e-permit downloaded from the status page, its QR code read, its check.

``check_permit`` is called on the applicant's status page of an issued case. It downloads the PDF
through the page's link (as the browser saves it), renders its page and decodes the QR code in the
test (pypdfium2 and zxing-cpp, as a checker's phone would), opens the address the code holds in a
browser of its own (signed in nowhere) and checks that the public page says the permit is valid,
masks the holder's name, shows the photo and never the passport number. Every journey of every
KITAS type ends with it.
"""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.conftest import LOCALES
from tests.e2e.words import Words
from tests.permit_pdf import pdf_text, qr_codes


def expect(target: Any) -> Any:
    """Playwright's ``expect`` (imported late: the module is collected even where playwright is missing)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def masked(name: str) -> str:
    """A name as the verification page shows it: ``Ana Lima`` -> ``A** L***``."""
    return " ".join(part[0] + "*" * (len(part) - 1) for part in name.split())


def check_permit(
    page: Any,
    context: Any,
    base_url: str,
    words: Words,
    *,
    holder: str | None = None,
    index_code: str | None = None,
    never_shown: tuple[str, ...] = (),
) -> str:
    """From the status page of an issued case: download the permit, decode its QR code, open the
    verification page in a browser of its own (signed in nowhere) and check it says valid. Returns the
    verification address.

    ``holder`` is the name on the permit (then checked on the PDF, masked on the page and never whole),
    ``index_code`` the permit's index (``E23``; checked on both), ``never_shown`` what the public page
    must not show (the passport number, the address, the date of birth).
    """
    link = page.get_by_role("link", name=words("Download the permit (PDF)"))
    expect(link).to_be_visible()
    number = page.get_by_test_id("permit-number").inner_text().strip()
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == f"KITAS-{number}.pdf", download.suggested_filename
    with open(download.path(), "rb") as handle:
        data = handle.read()
    assert data.startswith(b"%PDF-"), "the download is not a PDF"
    text = pdf_text(data)
    assert number in text and all(part in text for part in (holder, index_code) if part), f"the permit says:\n{text}"
    assert words("Valid until") in text, f"the permit is not in {words.language}:\n{text}"
    codes = qr_codes(data)
    assert len(codes) == 1, f"expected one QR code on the permit, found {codes}"
    url = codes[0]
    assert re.fullmatch(re.escape(base_url) + r"/verify/[0-9a-f]{32}\.[0-9a-f]{64}", url), url

    # The checker is anyone: a browser of their own, signed in nowhere, in the journey's language.
    checker_context = context.browser.new_context(locale=LOCALES[words.language])
    checker = checker_context.new_page()
    try:
        checker.goto(url)
        state = checker.get_by_test_id("verify-state")
        expect(state).to_have_attribute("data-state", "valid")
        expect(state).to_contain_text(words("Valid permit."))
        if holder:
            expect(checker.get_by_test_id("verify-name")).to_have_text(masked(holder))
        if index_code:
            expect(checker.get_by_test_id("verify-type")).to_contain_text(f"({index_code})")
        photo = checker.get_by_test_id("verify-photo")
        expect(photo).to_have_js_property("complete", True)
        assert photo.evaluate("img => img.naturalWidth") > 0, "the holder's photo does not load"
        html = checker.content()
        for secret in (holder, number, *never_shown):
            assert not secret or secret not in html, f"{secret!r} is on the public verification page"
    finally:
        checker_context.close()
    return url
