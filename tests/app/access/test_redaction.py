"""Withholding restricted words: whole words only, case aside, in each form a page, JSON,
CSV or Markdown gives them."""

from __future__ import annotations

import pytest

from app.programs.redaction import WITHHELD, redaction
from app.reports.text import escape_markdown

R = redaction(["PLAT-2", "Vault API <b>", "Bo Chen", "ab"], (escape_markdown,))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("waits on PLAT-2.", f"waits on {WITHHELD}.", id="key"),
        pytest.param("plat-2 and PLAT-2", f"{WITHHELD} and {WITHHELD}", id="any-case"),
        pytest.param(
            "PLAT-20 and XPLAT-2 and PLAT-2-b", "PLAT-20 and XPLAT-2 and PLAT-2-b", id="whole-words"
        ),
        pytest.param("Vault API &lt;b&gt; is late", f"{WITHHELD} is late", id="html-escaped"),
        pytest.param('"Vault API <b>"', f'"{WITHHELD}"', id="plain"),
        pytest.param("owner Bo Chen, and Bo Cheng", f"owner {WITHHELD}, and Bo Cheng", id="name"),
        pytest.param("a tab grabs", "a tab grabs", id="too-short-to-withhold"),
        pytest.param("PLAT-2 Vault API &lt;b… late", f"{WITHHELD} {WITHHELD} late", id="cut-short"),
        pytest.param("Vault… Vaulted…", f"{WITHHELD} Vaulted…", id="cut-at-a-word"),
        pytest.param("", "", id="empty"),
    ],
)
def test_restricted_words_are_withheld(text: str, expected: str) -> None:
    assert R.text(text) == expected


def test_markdown_escaped_forms_are_withheld() -> None:
    written = f"{escape_markdown('Vault API <b>')} slips"
    assert R.text(written) == f"{WITHHELD} slips"


def test_json_values_and_keys_are_withheld() -> None:
    assert R.data({"PLAT-2": ["Bo Chen", 3, None], "ok": "fine"}) == {
        WITHHELD: [WITHHELD, 3, None],
        "ok": "fine",
    }
