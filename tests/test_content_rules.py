"""Validation of content on the way in (`bot/services/content.py`, pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import InvalidInput
from bot.services.content import (
    MAX_SUMMARY,
    MAX_TITLE,
    MAX_URL,
    clean_summary,
    clean_title,
    fallback_title,
    normalise_url,
    parse_expiry,
)

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)


# --- normalise_url --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("http://example.com/a", "http://example.com/a"),
        ("https://example.com/a", "https://example.com/a"),
        ("HTTPS://Example.COM/Path/To", "https://example.com/Path/To"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        ("https://example.com/a#section-2", "https://example.com/a"),
        ("https://example.com/a?b=1&c=Two#frag", "https://example.com/a?b=1&c=Two"),
        ("  https://example.com/a  ", "https://example.com/a"),
        ("http://localhost:8000/x", "http://localhost:8000/x"),
        ("https://sub.example.co.uk/a/b/", "https://sub.example.co.uk/a/b/"),
    ],
)
def test_normalise_url_accepts_and_canonicalises(raw: str, expected: str) -> None:
    assert normalise_url(raw) == expected


def test_normalise_url_is_idempotent() -> None:
    once = normalise_url("HTTPS://Example.com:443/A?x=1#top")
    assert normalise_url(once) == once


def test_normalise_url_converts_an_international_host_to_ascii() -> None:
    assert normalise_url("https://bücher.example/a") == "https://xn--bcher-kva.example/a"


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("", "content.error_url_missing"),
        ("   ", "content.error_url_missing"),
        ("ftp://example.com/file", "content.error_scheme"),
        ("ws://example.com/socket", "content.error_scheme"),
        ("javascript:alert(1)", None),
        ("mailto:someone@example.com", None),
        ("file:///etc/passwd", None),
        ("data:text/html,<b>hi</b>", None),
        ("example.com/a", None),
        ("news", None),
        ("https://", "content.error_url"),
        ("https:///path/only", "content.error_url"),
        ("http://intranet/page", "content.error_url"),
        ("https://example.com/a b", "content.error_url"),
        ("https://exa mple.com/", "content.error_url"),
        ("https://example.com/\ta", "content.error_url"),
        ("https://example.com/a\x00", "content.error_url"),
        ("https://example.com/\x07", "content.error_url"),
        ("https://example.com/\x7f", "content.error_url"),
        ("https://user:secret@example.com/a", "content.error_url"),
        ("https://user@example.com/a", "content.error_url"),
        ("https://example.com:99999/a", "content.error_url"),
        ("https://example.com:port/a", "content.error_url"),
        ("https://[::1/a", "content.error_url"),
        ("https://exa_mple.com/a", "content.error_url"),
    ],
)
def test_normalise_url_rejects(raw: str, key: str | None) -> None:
    """`None`: refused with either URL reason (no scheme or host to judge, or a bad scheme)."""
    with pytest.raises(InvalidInput) as raised:
        normalise_url(raw)
    if key is None:
        assert raised.value.key in ("content.error_url", "content.error_scheme")
    else:
        assert raised.value.key == key


def test_normalise_url_rejects_over_long_urls() -> None:
    base = "https://example.com/"
    fits = base + "a" * (MAX_URL - len(base))
    assert normalise_url(fits) == fits
    with pytest.raises(InvalidInput) as raised:
        normalise_url(fits + "a")
    assert raised.value.key == "content.error_url_long"
    assert raised.value.params == {"limit": MAX_URL}


def test_rejected_url_is_quoted_only_in_part() -> None:
    with pytest.raises(InvalidInput) as raised:
        normalise_url("ftp://example.com/" + "x" * 500)
    assert len(raised.value.params["url"]) == 80


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_normalise_url_returns_http_or_raises_invalid_input(raw: str) -> None:
    try:
        url = normalise_url(raw)
    except InvalidInput:
        return
    assert url.startswith(("http://", "https://"))
    assert "#" not in url
    assert not any(char.isspace() for char in url)


_url_chars = st.sampled_from(list("abcXYZ019-._~:/?#[]@!$&'()*+,;=% \tä日\x00\\"))


@given(
    scheme=st.sampled_from(["http", "https", "HTTP", "ftp", "", "javascript"]),
    separator=st.sampled_from(["://", ":", ":///", "//"]),
    rest=st.text(alphabet=_url_chars, max_size=60),
)
@settings(max_examples=200, deadline=None)
def test_url_shaped_text_returns_http_or_raises_invalid_input(
    scheme: str, separator: str, rest: str
) -> None:
    try:
        url = normalise_url(scheme + separator + rest)
    except InvalidInput:
        return
    assert url.startswith(("http://", "https://"))
    assert normalise_url(url) == url


# --- titles and summaries -------------------------------------------------------------------


def test_clean_title_collapses_whitespace() -> None:
    assert clean_title("  The   big\tnews\n today ") == "The big news today"


def test_clean_title_replaces_control_characters() -> None:
    assert clean_title("Bad\x00title\x1b here") == "Bad title here"


def test_clean_title_none_and_blank() -> None:
    assert clean_title(None) is None
    assert clean_title("   \n ") is None


def test_clean_title_length_limit() -> None:
    assert clean_title("x" * MAX_TITLE) == "x" * MAX_TITLE
    # The limit applies after collapsing: padding does not count.
    assert clean_title("  " + "x" * MAX_TITLE + "  ") == "x" * MAX_TITLE
    with pytest.raises(InvalidInput) as raised:
        clean_title("x" * (MAX_TITLE + 1))
    assert raised.value.key == "content.error_title_long"
    assert raised.value.params == {"limit": MAX_TITLE, "length": MAX_TITLE + 1}


def test_clean_summary_keeps_line_breaks_and_limits_length() -> None:
    assert clean_summary("  First line.\nSecond line.  ") == "First line.\nSecond line."
    assert clean_summary(None) is None
    assert clean_summary("   ") is None
    assert clean_summary("a\x00b") == "a b"
    assert clean_summary("y" * MAX_SUMMARY) == "y" * MAX_SUMMARY
    with pytest.raises(InvalidInput) as raised:
        clean_summary("y" * (MAX_SUMMARY + 1))
    assert raised.value.key == "content.error_summary_long"


def test_fallback_title_is_host_and_path() -> None:
    assert fallback_title("https://example.com/news/a/") == "example.com/news/a"
    long = fallback_title("https://example.com/" + "p" * 300)
    assert long.startswith("example.com/")
    assert long.endswith("…")
    assert len(long) <= len("example.com") + 118


# --- parse_expiry ---------------------------------------------------------------------------


def test_a_date_means_the_end_of_that_day_in_the_programme_zone() -> None:
    moment = parse_expiry("2030-12-31", tz=PARIS, now=NOW)
    assert moment == datetime(2031, 1, 1, 0, 0, tzinfo=PARIS)
    assert moment.astimezone(UTC) == datetime(2030, 12, 31, 23, 0, tzinfo=UTC)


def test_a_summer_date_uses_summer_time() -> None:
    moment = parse_expiry("2030-07-14", tz=PARIS, now=NOW)
    assert moment.astimezone(UTC) == datetime(2030, 7, 14, 22, 0, tzinfo=UTC)


def test_an_iso_time_without_zone_is_read_in_the_programme_zone() -> None:
    moment = parse_expiry("2030-06-01T09:30", tz=PARIS, now=NOW)
    assert moment.astimezone(UTC) == datetime(2030, 6, 1, 7, 30, tzinfo=UTC)
    assert moment.utcoffset() == timedelta(hours=2)


def test_an_iso_time_with_a_zone_keeps_it() -> None:
    moment = parse_expiry("2030-06-01T09:30+00:00", tz=PARIS, now=NOW)
    assert moment.astimezone(UTC) == datetime(2030, 6, 1, 9, 30, tzinfo=UTC)


def test_today_is_still_in_the_future_until_midnight() -> None:
    # NOW is 09:00 in Paris on 2026-11-16: that date ends at midnight, still ahead.
    moment = parse_expiry("2026-11-16", tz=PARIS, now=NOW)
    assert moment.astimezone(UTC) == datetime(2026, 11, 16, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize("raw", ["2026-11-15", "2020-01-01", "2026-11-16T08:00+00:00"])
def test_a_past_moment_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_expiry(raw, tz=PARIS, now=NOW)
    assert raised.value.key == "content.error_date_past"


@pytest.mark.parametrize(
    "raw", ["", "tomorrow", "never", "31/12/2030", "2030-13-01", "2030-02-30", "2030-12-31Tnope"]
)
def test_garbage_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_expiry(raw, tz=PARIS, now=NOW)
    assert raised.value.key == "content.error_date"


@given(st.text(max_size=40))
@settings(max_examples=200, deadline=None)
def test_parse_expiry_returns_a_future_aware_moment_or_raises_invalid_input(raw: str) -> None:
    try:
        moment = parse_expiry(raw, tz=PARIS, now=NOW)
    except InvalidInput:
        return
    assert moment.tzinfo is not None
    assert moment > NOW
