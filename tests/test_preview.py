"""Link previews from fetched bytes (`bot/preview.py`): what wins, how bytes become text, what a
hostile page cannot do, and that nothing but `NoPreview` ever comes out."""

from __future__ import annotations

import ast
import codecs
import json
import string
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.i18n import catalog
from bot.kinds import ARTICLE, EVENT, JOB, KINDS, TRAINING
from bot.preview import (
    MAX_IMAGE_URL,
    MAX_SUMMARY,
    MAX_TITLE,
    NoPreview,
    Preview,
    clean_text,
    html_to_text,
    http_url,
    language_tag,
    read_page,
)
from bot.services import content
from bot.web import Fetched

URL = "https://www.example.com/blog/2026/a-post"


def fetched(
    body: bytes | str,
    *,
    content_type: str = "text/html",
    charset: str | None = None,
    url: str = URL,
    truncated: bool = False,
) -> Fetched:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return Fetched(
        url=url,
        status=200,
        content_type=content_type,
        charset=charset,
        body=data,
        truncated=truncated,
    )


def page(head: str = "", body: str = "", *, lang: str | None = None) -> str:
    html_attrs = f' lang="{lang}"' if lang is not None else ""
    return f"<!DOCTYPE html><html{html_attrs}><head>{head}</head><body>{body}</body></html>"


def meta(key: str, content: str, attribute: str = "property") -> str:
    return f'<meta {attribute}="{key}" content="{content}">'


def read(head: str = "", body: str = "", *, lang: str | None = None, url: str = URL) -> Preview:
    return read_page(fetched(page(head, body, lang=lang), url=url))


def no_preview(item: Fetched) -> NoPreview:
    with pytest.raises(NoPreview) as caught:
        read_page(item)
    return caught.value


# --- what wins ------------------------------------------------------------------------------


def test_a_full_page() -> None:
    preview = read(
        "<title>Page title</title>"
        + meta("og:title", "OG title")
        + meta("og:description", "OG description")
        + meta("og:image", "https://cdn.example.com/a.png")
        + meta("og:site_name", "Example Blog")
        + meta("og:type", "article"),
        lang="en-GB",
    )
    assert preview == Preview(
        title="OG title",
        description="OG description",
        image_url="https://cdn.example.com/a.png",
        site_name="Example Blog",
        language="en-GB",
        kind=ARTICLE,
    )


def test_og_title_beats_twitter_title_beats_the_title_element() -> None:
    twitter = meta("twitter:title", "Twitter", "name")
    og = meta("og:title", "OG")
    assert read("<title>Element</title>" + twitter + og).title == "OG"
    assert read("<title>Element</title>" + twitter).title == "Twitter"
    assert read("<title>Element</title>").title == "Element"


def test_an_empty_og_title_falls_through() -> None:
    head = meta("og:title", "  ") + meta("twitter:title", "", "name") + "<title>Element</title>"
    assert read(head).title == "Element"


def test_twitter_tags_may_use_property_and_og_tags_name() -> None:
    assert read(meta("twitter:title", "T", "property")).title == "T"
    assert read(meta("og:title", "O", "name")).title == "O"


def test_description_precedence() -> None:
    og = meta("og:description", "OG")
    twitter = meta("twitter:description", "Twitter", "name")
    plain = meta("description", "Plain", "name")
    assert read("<title>t</title>" + plain + twitter + og).description == "OG"
    assert read("<title>t</title>" + plain + twitter).description == "Twitter"
    assert read("<title>t</title>" + plain).description == "Plain"
    assert read("<title>t</title>").description is None


def test_the_first_of_a_repeated_tag_wins() -> None:
    assert read(meta("og:title", "First") + meta("og:title", "Second")).title == "First"


def test_image_precedence_and_relative_urls() -> None:
    twitter = meta("twitter:image", "/t.png", "name")
    og = meta("og:image", "images/og.png")
    secure = meta("og:image:secure_url", "https://secure.example.com/s.png")
    assert read(twitter).image_url == "https://www.example.com/t.png"
    assert read(twitter + og).image_url == "https://www.example.com/blog/2026/images/og.png"
    assert read(twitter + og + secure).image_url == "https://secure.example.com/s.png"
    protocol_relative = meta("og:image", "//cdn.example.net/x.jpg")
    assert read(protocol_relative).image_url == "https://cdn.example.net/x.jpg"


@pytest.mark.parametrize(
    "value",
    [
        "data:image/png;base64,AAAA",
        "javascript:alert(1)",
        "ftp://example.com/a.png",
        "http://",
        "http://[::1",
        "https://example.com/" + "a" * MAX_IMAGE_URL,
        "https://example.com/a\x00.png",
    ],
)
def test_unusable_images_are_skipped(value: str) -> None:
    head = "<title>t</title>" + meta("og:image", value) + meta("twitter:image", "/ok.png", "name")
    assert read(head).image_url == "https://www.example.com/ok.png"
    assert read("<title>t</title>" + meta("og:image", value)).image_url is None


def test_an_image_url_with_spaces_is_escaped() -> None:
    assert read(meta("og:image", "/my image.png")).image_url == (
        "https://www.example.com/my%20image.png"
    )


def test_only_an_image_is_enough_for_a_preview() -> None:
    preview = read(meta("og:image", "/a.png"))
    assert preview.title is None
    assert preview.image_url == "https://www.example.com/a.png"


def test_site_name() -> None:
    assert read("<title>t</title>" + meta("og:site_name", "ACME  News")).site_name == "ACME News"
    assert read("<title>t</title>").site_name is None


# --- language -------------------------------------------------------------------------------


def test_language_from_the_html_element_then_og_locale() -> None:
    locale = meta("og:locale", "fr_FR")
    assert read("<title>t</title>" + locale, lang="en").language == "en"
    assert read("<title>t</title>" + locale).language == "fr-FR"
    assert read("<title>t</title>" + locale, lang="not a language").language == "fr-FR"
    assert read("<title>t</title>").language is None


def test_xml_lang_counts_for_xhtml() -> None:
    body = '<html xml:lang="de"><head><title>t</title></head></html>'
    assert read_page(fetched(body, content_type="application/xhtml+xml")).language == "de"


@pytest.mark.parametrize(
    ("raw", "tag"),
    [
        ("fr", "fr"),
        ("FR", "fr"),
        ("en-GB", "en-GB"),
        ("en-gb", "en-GB"),
        ("en_US", "en-US"),
        (" fr-ca ", "fr-CA"),
        ("es-419", "es-419"),
        ("zh-Hant-TW", "zh-TW"),
        ("zh-Hant", "zh"),
        ("en-GB-oxendict", "en-GB"),
        ("ast", "ast"),
        ("de-1996", "de"),
        (None, None),
        ("", None),
        ("e", None),
        ("english", None),
        ("x-klingon", None),
        ("i-klingon", None),
        ("und", None),
        ("12", None),
        ("fr-", None),
        ("fr-FR-" + "x" * 20, None),
        ("fr FR", None),
        ("ελ", None),
    ],
)
def test_language_tag(raw: str | None, tag: str | None) -> None:
    assert language_tag(raw) == tag
    if tag:
        assert len(tag) <= 16


# --- kind -----------------------------------------------------------------------------------


def json_ld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ({"@type": "JobPosting", "title": "Engineer"}, JOB),
        ({"@type": "https://schema.org/JobPosting"}, JOB),
        ({"@type": "schema:JobPosting"}, JOB),
        ({"@type": "Event"}, EVENT),
        ({"@type": "MusicEvent"}, EVENT),
        ({"@type": "BusinessEvent"}, EVENT),
        ({"@type": "EducationEvent"}, TRAINING),
        ({"@type": ["Event", "EducationEvent"]}, TRAINING),
        ({"@type": "Course"}, TRAINING),
        ({"@type": "CourseInstance"}, TRAINING),
        ({"@type": "EducationalOccupationalProgram"}, TRAINING),
        ([{"@type": "Organization"}, {"@type": "JobPosting"}], JOB),
        ({"@graph": [{"@type": "WebPage"}, {"@type": "Event"}]}, EVENT),
        ({"@type": "WebPage", "mainEntity": {"@type": "JobPosting"}}, JOB),
        ({"@type": ["Thing", "Course"]}, TRAINING),
        ({"@type": "Organization"}, None),
        ({"@type": 42}, None),
        ([1, "two", None], None),
    ],
)
def test_kind_from_json_ld(data: object, kind: str | None) -> None:
    assert read("<title>t</title>" + json_ld(data)).kind == kind


def test_the_script_type_is_matched_loosely() -> None:
    script = '<script type=" Application/LD+JSON ">{"@type": "JobPosting"}</script>'
    assert read("<title>t</title>" + script).kind == JOB


def test_broken_or_oversized_json_ld_is_no_signal() -> None:
    broken = '<script type="application/ld+json">{"@type": "JobPosting",</script>'
    assert read("<title>t</title>" + broken).kind is None
    deep = '<script type="application/ld+json">' + "[" * 100_000 + "]" * 100_000 + "</script>"
    assert read("<title>t</title>" + deep).kind is None
    big = json_ld({"@type": "JobPosting", "padding": "x" * 200_001})
    assert read("<title>t</title>" + big).kind is None
    not_json_ld = '<script type="text/javascript">{"@type": "JobPosting"}</script>'
    assert read("<title>t</title>" + not_json_ld).kind is None


def test_json_ld_beats_og_type_which_beats_the_url() -> None:
    job_url = "https://example.com/careers/engineer"
    head = "<title>t</title>" + meta("og:type", "article")
    assert read(head + json_ld({"@type": "Event"}), url=job_url).kind == EVENT
    assert read(head, url=job_url).kind == ARTICLE
    assert read("<title>t</title>" + meta("og:type", "website"), url=job_url).kind == JOB


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/jobs/123", JOB),
        ("/en/careers/engineer", JOB),
        ("/fr/carrieres/ingenieur", JOB),
        ("/fr/carri%C3%A8res/ingenieur", JOB),
        ("/emploi/poste-42", JOB),
        ("/offres/developpeur", JOB),
        ("/recrutement/", JOB),
        ("/events/summit-2026", EVENT),
        ("/evenements/salon", EVENT),
        ("/%C3%A9v%C3%A9nements/salon", EVENT),
        ("/agenda/2026", EVENT),
        ("/training/python", TRAINING),
        ("/formation/python", TRAINING),
        ("/formations/", TRAINING),
        ("/courses/data", TRAINING),
        ("/webinar-replay", TRAINING),
        ("/webinars/ai", TRAINING),
        ("/blog/how-we-hire", None),
        ("/jobsite", None),
        ("/", None),
    ],
)
def test_kind_from_url_words(path: str, kind: str | None) -> None:
    assert read("<title>t</title>", url="https://example.com" + path).kind == kind


def test_kind_is_always_known_or_none() -> None:
    assert read("<title>t</title>").kind is None
    assert read("<title>t</title>" + meta("og:type", "Article")).kind in KINDS


# --- charset --------------------------------------------------------------------------------

CAFE = "Café déjà vu"


def titled(text: str, head: str = "") -> str:
    return page(head + f"<title>{text}</title>")


def test_the_header_charset_is_used() -> None:
    body = titled("Привет").encode("koi8-r")
    assert read_page(fetched(body, charset="koi8-r")).title == "Привет"
    assert read_page(fetched(body, charset='"KOI8-R"')).title == "Привет"


def test_a_meta_charset_is_used_without_a_header() -> None:
    body = titled("Привет", '<meta charset="koi8-r">').encode("koi8-r")
    assert read_page(fetched(body)).title == "Привет"


def test_an_http_equiv_content_type_is_used() -> None:
    head = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
    body = titled("Привет", head).encode("cp1251")
    assert read_page(fetched(body)).title == "Привет"


def test_an_unknown_header_charset_is_ignored() -> None:
    body = titled("Привет", '<meta charset="koi8-r">').encode("koi8-r")
    assert read_page(fetched(body, charset="x-klingon")).title == "Привет"
    assert read_page(fetched(titled(CAFE).encode(), charset="x-klingon")).title == CAFE


@pytest.mark.parametrize(
    "charset", ["base64", "rot13", "zlib", "utf-7", "unicode_escape", "x" * 99]
)
def test_codecs_that_are_not_web_charsets_are_ignored(charset: str) -> None:
    assert read_page(fetched(titled(CAFE).encode(), charset=charset)).title == CAFE


def test_a_meta_charset_inside_a_comment_is_ignored() -> None:
    head = '<!-- <meta charset="koi8-r"> -->'
    assert read_page(fetched(titled(CAFE, head).encode())).title == CAFE


def test_a_header_saying_utf8_over_cp1252_bytes() -> None:
    body = titled(CAFE).encode("cp1252")
    assert read_page(fetched(body, charset="utf-8")).title == CAFE


def test_a_meta_saying_utf8_over_cp1252_bytes() -> None:
    body = titled(CAFE, '<meta charset="utf-8">').encode("cp1252")
    assert read_page(fetched(body)).title == CAFE


def test_latin1_is_read_as_windows_1252() -> None:
    body = titled("It’s “quoted”").encode("cp1252")
    assert read_page(fetched(body, charset="iso-8859-1")).title == "It’s “quoted”"


def test_utf8_without_any_declaration() -> None:
    assert read_page(fetched(titled("日本語 " + CAFE).encode())).title == "日本語 " + CAFE


def test_cp1252_without_any_declaration() -> None:
    assert read_page(fetched(titled(CAFE).encode("cp1252"))).title == CAFE


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ],
)
def test_a_bom_wins_over_header_and_meta(bom: bytes, codec: str) -> None:
    body = bom + titled(CAFE, '<meta charset="koi8-r">').encode(codec)
    assert read_page(fetched(body, charset="koi8-r")).title == CAFE


def test_a_truncated_body_may_end_mid_character() -> None:
    body = titled(CAFE).encode() + "<p>é".encode()[:-1]
    assert read_page(fetched(body, charset="utf-8", truncated=True)).title == CAFE


@pytest.mark.parametrize(
    "body",
    [
        b"\x00" * 5_000,
        b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" * 400,
        bytes(range(256)) * 20,
        "<title>t</title>".encode("utf-16-le") + b"\x00" * 4000,
    ],
)
def test_binary_content_is_undecodable(body: bytes) -> None:
    assert no_preview(fetched(body)).key == "preview.undecodable"


def test_a_few_control_characters_do_not_make_a_page_binary() -> None:
    body = titled("A\x00B\x07C") + "x" * 200
    assert read_page(fetched(body)).title == "ABC"


# --- text cleanup and clipping --------------------------------------------------------------


def test_entities_are_decoded_everywhere() -> None:
    head = "<title>Tom &amp; Jerry &eacute;&#233;&#xe9;</title>" + meta(
        "og:description", "5 &lt; 6 &quot;ok&quot; &nbsp;x"
    )
    preview = read(head)
    assert preview.title == "Tom & Jerry ééé"
    assert preview.description == '5 < 6 "ok" x'


def test_controls_and_bidi_overrides_go_and_whitespace_collapses() -> None:
    preview = read("<title>\n  Hello\t\x0b\x85 \u2028world\u202e! \x1b[31m</title>")
    assert preview.title == "Hello world! [31m"


def test_title_and_description_are_clipped() -> None:
    long_title = "word " * 200
    long_description = "x" * 5_000
    preview = read(meta("og:title", long_title) + meta("og:description", long_description))
    assert preview.title is not None
    assert preview.description is not None
    assert len(preview.title) <= MAX_TITLE
    assert preview.title.endswith("…")
    assert preview.title.startswith("word word")
    assert len(preview.description) == MAX_SUMMARY
    assert preview.description.endswith("…")


def test_text_at_the_limit_is_not_clipped() -> None:
    exact = "a" * MAX_TITLE
    assert read(meta("og:title", exact)).title == exact


@pytest.mark.parametrize(
    ("raw", "limit", "expected"),
    [
        (None, 10, None),
        ("", 10, None),
        (" \t\n", 10, None),
        ("a  b", 10, "a b"),
        ("abcdefghijkl", 10, "abcdefghi…"),
        ("alpha beta gamma delta", 20, "alpha beta gamma…"),
        ("alpha beta gamma delta", 10, "alpha bet…"),
        ("\x00\x01", 10, None),
    ],
)
def test_clean_text(raw: str | None, limit: int, expected: str | None) -> None:
    assert clean_text(raw, limit) == expected


def test_html_to_text() -> None:
    markup = (
        "<p>Hello <b>wor</b>ld</p><ul><li>one</li><li>two</li></ul>"
        "<script>var x = '<p>no</p>';</script><style>p { }</style>&amp; more<br>end"
    )
    assert html_to_text(markup) == "Hello world one two & more end"
    assert html_to_text("a < b and c > d") == "a < b and c > d"
    assert len(html_to_text("<p>word</p>" * 100_000, 100)) < 1_000


def test_http_url() -> None:
    assert http_url("/x", "https://a.example/b/c") == "https://a.example/x"
    assert http_url(" HTTP://A.example/x ", "https://a.example/") == "HTTP://A.example/x"
    assert http_url("mailto:a@b.c", "https://a.example/") is None
    assert http_url(None, "https://a.example/") is None
    assert http_url("https://a.example/" + "x" * 30, "https://a.example/", limit=20) is None


def test_the_limits_match_the_content_rules() -> None:
    assert (MAX_TITLE, MAX_SUMMARY) == (content.MAX_TITLE, content.MAX_SUMMARY)


# --- hostile pages --------------------------------------------------------------------------


def test_meta_tags_in_comments_are_ignored() -> None:
    head = (
        '<!-- <meta property="og:title" content="Fake"> -->'
        '<!--[if IE]><meta property="og:description" content="Fake"><![endif]-->'
        "<title>Real</title>"
    )
    preview = read(head)
    assert preview.title == "Real"
    assert preview.description is None


def test_script_content_is_not_markup() -> None:
    head = (
        "<script>document.write('</title><title>Fake</title>"
        '<meta property="og:title" content="Fake">\');</script>'
        "<style>/* <title>Fake</title> */</style>"
        "<title>Real</title>"
    )
    preview = read(head)
    assert preview.title == "Real"


def test_title_text_only_from_the_real_title_element() -> None:
    svg = "<svg><title>Tooltip</title></svg>"
    assert read(body=svg + "<title>Late</title>", head="").title == "Late"
    assert read("<title>First</title><title>Second</title>").title == "First"
    assert read("<title>A <b>bold</b> move</title>").title == "A <b>bold</b> move"
    textarea = '<textarea><meta property="og:title" content="Fake"></textarea>'
    assert read(body=textarea + meta("og:description", "d")).title is None


def test_deep_nesting_of_unclosed_tags() -> None:
    preview = read_page(fetched("<div>" * 10_000 + "<span><b>" * 5_000 + "<title>Deep</title>"))
    assert preview.title == "Deep"


def test_the_parse_stops_once_the_head_is_done_and_a_title_is_known() -> None:
    late = meta("og:description", "From the body")
    assert read("<title>t</title>", late).description is None
    # without a title the parse goes on into the body
    assert read("", late).description == "From the body"
    assert read("", "<title>Body title</title>").title == "Body title"
    assert read("<title> </title>", late).description == "From the body"


def test_a_one_megabyte_page_with_the_title_at_the_end() -> None:
    filler = "<p class='x'>Lorem <b>ipsum</b> dolor sit amet, consectetur.</p>\n" * 15_200
    body = "<html><head></head><body>" + filler + "<title>At the end</title></body></html>"
    assert 950_000 < len(body) < 1_000_000
    assert read_page(fetched(body)).title == "At the end"


@pytest.mark.parametrize(
    "body",
    [
        "<a" * 500_000,
        "<" * 1_000_000,
        "</" * 500_000,
        "<?" * 500_000,
        "<!" * 500_000,
        "<![CDATA[" * 100_000,
        "<a " + 'b="' * 300_000,
        "<a" + " b" * 500_000,
        "<!--" + "a" * 999_000,
        "<title>" + "x" * 999_000,
        "<script>" + "a<" * 499_000,
        "&" * 1_000_000,
        "<div>" * 200_000,
    ],
    ids=lambda body: repr(body[:12]),
)
def test_pathological_markup_is_refused_quickly(body: str) -> None:
    """The standard parser is quadratic on some unterminated constructs; the bounds keep each
    of these well under a second (measured ≤ 0.3 s), asserted loosely here."""
    start = time.perf_counter()
    with pytest.raises(NoPreview):
        read_page(fetched(body))
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize(
    "body",
    [
        "<![if !IE]><title>t</title>",
        "<!DOCTYPE html [<!ENTITY x 'y'>]><title>t</title>",
        "<![CDATA[x]]><title>t</title>",
        "<!x <title>t</title>",
        "<title>t</title><![",
        "<title>t</title><!---->--!><!",
        "<title>t</title><a b='",
        "<title>t</title>&#99999999999;&#x110000;&#0;",
    ],
)
def test_odd_declarations_do_not_break_the_reader(body: str) -> None:
    try:
        preview = read_page(fetched(body))
    except NoPreview:
        return
    assert preview.title in ("t", None)


# --- what is not a preview ------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/pdf", "image/png", "text/plain", "Text/CSV"])
def test_not_html(content_type: str) -> None:
    refused = no_preview(fetched(titled("t"), content_type=content_type))
    assert refused.key == "preview.not_html"
    assert refused.params == {"type": content_type.lower()}


def test_a_page_without_content_type_is_sniffed() -> None:
    assert read_page(fetched(titled("t"), content_type="")).title == "t"
    refused = no_preview(fetched(b"%PDF-1.7", content_type=""))
    assert (refused.key, refused.params) == ("preview.not_html", {"type": "?"})


@pytest.mark.parametrize(
    "body",
    [b"", b"   \n", page(), page("<title> </title>", "<p>Just text</p>"), "plain text, no markup"],
)
def test_a_page_with_nothing_usable_is_empty(body: bytes | str) -> None:
    assert no_preview(fetched(body)).key == "preview.empty"


# --- never anything but NoPreview -----------------------------------------------------------


def assert_refused(refused: Exception, *keys: str) -> None:
    assert getattr(refused, "key", None) in keys, refused


FRAGMENTS = [
    "<html>",
    "<head>",
    "</head>",
    "<body>",
    "<title>",
    "</title>",
    "<script>",
    "</script>",
    '<script type="application/ld+json">',
    '{"@type": "JobPosting"}',
    '{"@graph": [',
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "<!DOCTYPE",
    "<?xml",
    '<meta property="og:title" content="',
    '<meta property="og:image" content="',
    '<meta charset="',
    '<meta http-equiv="content-type" content="text/html; charset=',
    "koi8-r",
    '">',
    "<svg>",
    "</svg>",
    "<textarea>",
    "&amp;",
    "&#",
    "&#x",
    "<",
    ">",
    "/",
    "'",
    '"',
    "=",
    "\x00",
    "\ufeff",
    "é",
]


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=3_000),
    st.sampled_from(["text/html", "application/xhtml+xml", ""]),
    st.sampled_from([None, "utf-8", "utf-16", "x-klingon", "cp1252", "koi8-r", "base64"]),
    st.booleans(),
)
def test_random_bytes_give_a_preview_or_no_preview(
    body: bytes, content_type: str, charset: str | None, truncated: bool
) -> None:
    try:
        preview = read_page(
            fetched(body, content_type=content_type, charset=charset, truncated=truncated)
        )
    except NoPreview as refused:
        key = refused.key
    else:
        key = None
        assert preview.kind is None or preview.kind in KINDS
    assert key in (None, "preview.not_html", "preview.empty", "preview.undecodable")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=12), max_size=60),
    st.sampled_from(["utf-8", "utf-16", "cp1252"]),
    st.sampled_from(["https://example.com/jobs/1", "http://[::1]/x", URL]),
)
def test_random_tag_soup_gives_a_preview_or_no_preview(
    parts: list[str], encoding: str, url: str
) -> None:
    body = "".join(parts).encode(encoding, errors="replace")
    try:
        preview = read_page(fetched(body, url=url))
    except NoPreview as refused:
        assert_refused(refused, "preview.empty", "preview.undecodable")
        return
    for text, limit in ((preview.title, MAX_TITLE), (preview.description, MAX_SUMMARY)):
        assert text is None or (0 < len(text) <= limit and text == " ".join(text.split()))
    assert preview.image_url is None or preview.image_url.startswith(("http://", "https://"))
    assert preview.kind is None or preview.kind in KINDS


# --- the catalog ----------------------------------------------------------------------------


def raised_keys(module: Path, exception: str) -> dict[str, set[str]]:
    """Every `exception("key", param=...)` in a module's source, with its parameter names."""
    found: dict[str, set[str]] = {}
    for node in ast.walk(ast.parse(module.read_text("utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == exception
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found[node.args[0].value] = {k.arg for k in node.keywords if k.arg}
    return found


def placeholders(text: str | list[str]) -> set[str]:
    assert isinstance(text, str)
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_no_preview_key_is_in_both_catalogs_with_its_params() -> None:
    source = Path(__file__).resolve().parent.parent / "bot" / "preview.py"
    keys = raised_keys(source, "NoPreview")
    assert set(keys) == {
        "preview.not_html",
        "preview.undecodable",
        "preview.empty",
        "preview.unreadable",
    }
    for language in ("en", "fr"):
        messages = catalog(language)
        for key, params in keys.items():
            assert placeholders(messages[key]) == params, (language, key)


def test_a_job_postings_json_ld_in_the_body_gives_the_kind() -> None:
    """Job boards put their JSON-LD after the head: the parse goes on a little for it."""
    ld = json.dumps({"@context": "https://schema.org", "@type": "JobPosting", "title": "Chef"})
    page = (
        "<html><head><title>Chef de cuisine</title></head><body>"
        + "<p>About the kitchen.</p>" * 200
        + f'<script type="application/ld+json">{ld}</script></body></html>'
    )
    assert read_page(fetched(page)).kind == "job"
    far = page.replace("<p>About the kitchen.</p>" * 200, "<p>x</p>" * 30_000)
    assert read_page(fetched(far)).kind is None  # too far in: not worth the time
