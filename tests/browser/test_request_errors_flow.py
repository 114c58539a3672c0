"""In real Chromium: a refused htmx request shows its message on the page (contest.web.errors
sends it to #request-error; htmx swaps the error status there), in the reader's language, and the
message goes once the same field's next request succeeds. A NUL is what a tool sends, not a
keyboard: the test puts one in the judge picker's search field as a script would."""

from __future__ import annotations

import pytest

from tests.browser.test_judge_picker_flow import picker  # noqa: F401 - the seeded item and judges
from tests.browser.test_setup_flow import sign_in

pytestmark = pytest.mark.browser

NUL_IN_THE_FIELD = """() => {
  const search = document.querySelector("form.judge-picker input[name=q]");
  search.value = "裁\\u0000判";
  search.dispatchEvent(new Event("input", { bubbles: true }));
}"""


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("zh", "“姓名”含有不允许的控制字符 U+0000(NUL),请删除后重试"),
        ("en", "“Name” contains a control character that is not allowed, U+0000 (NUL); remove it and try again"),
    ],
)
def test_a_refused_htmx_request_is_shown_beside_the_page_and_cleared_by_the_next_good_one(picker, page, lang, message) -> None:  # noqa: F811
    sign_in(page, "org")
    page.wait_for_url("**/competitions")
    if lang == "en":
        page.goto("/lang/en?next=/competitions")
    page.goto(f"/items/{picker['item_id']}")
    page.evaluate(NUL_IN_THE_FIELD)
    shown = page.locator("#request-error [role=alert]")
    shown.wait_for(state="visible")
    assert message in shown.inner_text()
    assert page.locator("#judge-matches label.match").count() == 0  # the picker's own place is left as it was
    assert page.locator("header.topbar").count() == 1  # the page stays whole: nothing swapped a page into it

    search = page.locator("form.judge-picker input[name=q]")
    search.fill("")
    search.click()
    page.keyboard.type("裁判")
    page.wait_for_function("() => document.querySelectorAll('#judge-matches label.match').length > 0", timeout=20_000)
    page.wait_for_function("() => document.getElementById('request-error').children.length === 0", timeout=5_000)
