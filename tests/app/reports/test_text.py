"""Tracker text stays text in Markdown and Slack; only http(s) becomes a link."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from app.reports import text

HOSTILE = "[click](javascript:alert(1)) <img src=x onerror=alert(1)> **bold** & `code` ![i](x)"
# CommonMark with raw HTML allowed, as the most permissive renderer a reader might use.
MARKDOWN = MarkdownIt("commonmark", {"html": True})


def test_markdown_escaping_renders_back_to_the_same_text() -> None:
    html = MARKDOWN.render(f"- {text.escape_markdown(HOSTILE)}")
    assert "<a" not in html
    assert "<img" not in html
    assert "<strong>" not in html
    assert "<code>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        pytest.param("1. Launch", "1\\. Launch", id="ordered-list"),
        pytest.param("- item", "\\- item", id="bullet"),
        pytest.param("# heading", "\\# heading", id="heading"),
        pytest.param("line\nbreak | cell", "line break \\| cell", id="one-line-one-cell"),
    ],
)
def test_markdown_escaping_stops_block_markers(title: str, expected: str) -> None:
    assert text.escape_markdown(title) == expected


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,x", "//evil.test/x", "ftp://x.test", ""]
)
def test_only_http_urls_and_local_paths_become_links(url: str) -> None:
    assert text.safe_url(url) is None
    assert "<a" not in MARKDOWN.render(text.markdown_link("PAY-1", url))


def test_a_markdown_link_keeps_its_target_inside_angle_brackets() -> None:
    link = text.markdown_link("PAY-1", "https://jira.test/browse/PAY-1?x=<a> b")
    assert link == "[PAY-1](<https://jira.test/browse/PAY-1?x=%3Ca%3E%20b>)"


def test_slack_text_escapes_its_control_characters() -> None:
    assert text.escape_slack("<!channel> & <b>") == "&lt;!channel&gt; &amp; &lt;b&gt;"
    assert text.slack_link("A|B <x>", "https://x.test/a|b>") == (
        "<https://x.test/a%7Cb%3E|A¦B &lt;x&gt;>"
    )


@pytest.mark.parametrize(
    "plain",
    ["+4.6 pts", "−3 d", "-3 d", "2026-W47", "fast_pay", "A__B_C", "Q&A", "P85 (+2 w)", "10%"],
)
def test_markdown_escaping_leaves_text_that_means_nothing_as_it_is(plain: str) -> None:
    assert text.escape_markdown(plain) == plain


@pytest.mark.parametrize(
    ("title", "rendered"),
    [
        pytest.param("_underlined_", "_underlined_", id="edge-underscores"),
        pytest.param("&amp; entity", "&amp;amp; entity", id="entity"),
        pytest.param("---", "---", id="rule"),
        pytest.param("+ bullet", "+ bullet", id="plus-bullet"),
    ],
)
def test_markdown_escaping_still_stops_what_would_become_markup(title: str, rendered: str) -> None:
    html = MARKDOWN.render(text.escape_markdown(title))
    assert html.strip() == f"<p>{rendered}</p>"
