"""Feed entries from fetched bytes (`bot/feedread.py`): RSS and Atom, links and images made
safe, summaries made plain, and nothing but `NoFeed` ever comes out."""

from __future__ import annotations

import pyexpat
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import feedparser  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bot.feedread
from bot.feedread import EXPAT_PROTECTED, MAX_LINK, Entry, FeedDoc, NoFeed, read_feed
from bot.i18n import catalog
from bot.preview import MAX_SUMMARY, MAX_TITLE
from bot.services import content
from bot.web import Fetched
from tests.test_preview import assert_refused, placeholders, raised_keys

FEED_URL = "https://news.example.com/blog/feed.xml"


def fetched(
    body: bytes | str, *, content_type: str = "application/rss+xml", url: str = FEED_URL
) -> Fetched:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return Fetched(
        url=url, status=200, content_type=content_type, charset=None, body=data, truncated=False
    )


def no_feed(item: Fetched) -> NoFeed:
    with pytest.raises(NoFeed) as caught:
        read_feed(item)
    return caught.value


RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">
<channel>
  <title>ACME &amp; Co news</title>
  <link>https://news.example.com/</link>
  <item>
    <title>First &amp; foremost</title>
    <link>/blog/first</link>
    <guid isPermaLink="false">urn:acme:1</guid>
    <description>&lt;p&gt;Hello &lt;b&gt;there&lt;/b&gt;&lt;/p&gt;
    &lt;p&gt;Second&amp;nbsp;para&lt;/p&gt; &lt;script&gt;alert(1)&lt;/script&gt;</description>
    <pubDate>Tue, 10 Jun 2025 12:30:00 +0200</pubDate>
    <media:content url="/img/first.jpg" type="image/jpeg" />
    <media:thumbnail url="https://cdn.example.com/thumb.jpg" />
  </item>
  <item>
    <title>Second</title>
    <link>https://other.example.org/second?x=1</link>
    <guid>urn:acme:2</guid>
    <description>Plain text only</description>
    <media:thumbnail url="https://cdn.example.com/second.jpg" />
  </item>
  <item>
    <title>Third</title>
    <link>javascript:alert(1)</link>
    <enclosure url="https://cdn.example.com/talk.mp3" type="audio/mpeg" length="1" />
    <enclosure url="https://cdn.example.com/third.png" type="image/png" length="1" />
  </item>
  <item>
    <description>No title, no link, no date</description>
    <media:content url="https://cdn.example.com/clip.mp4" type="video/mp4" />
  </item>
</channel>
</rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example.org/en/">
  <title type="html">The &lt;em&gt;Example&lt;/em&gt; blog</title>
  <id>tag:example.org,2025:feed</id>
  <updated>2025-06-10T10:00:00Z</updated>
  <entry>
    <id>tag:example.org,2025:1</id>
    <title>Entry one</title>
    <link rel="alternate" href="posts/one"/>
    <link rel="enclosure" type="image/webp" href="/media/one.webp"/>
    <published>2025-06-09T10:00:00+02:00</published>
    <updated>2025-06-10T10:00:00Z</updated>
    <summary type="html">&lt;p&gt;Summary &lt;a href="x"&gt;one&lt;/a&gt;&lt;/p&gt;</summary>
  </entry>
  <entry>
    <id>tag:example.org,2025:2</id>
    <title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Entry <b>two</b></div></title>
    <link href="https://blog.example.org/posts/two"/>
    <updated>2025-06-08T23:59:59-05:00</updated>
    <content type="html">&lt;h1&gt;Body&lt;/h1&gt;&lt;p&gt;of two&lt;/p&gt;</content>
  </entry>
  <entry>
    <id>tag:example.org,2025:3</id>
    <title>Entry three</title>
    <summary>A &lt;plain&gt; text summary</summary>
  </entry>
</feed>
"""


# --- RSS ------------------------------------------------------------------------------------


def test_rss() -> None:
    doc = read_feed(fetched(RSS))
    assert doc.title == "ACME & Co news"
    first, second, third, fourth = doc.entries
    assert first == Entry(
        id="urn:acme:1",
        link="https://news.example.com/blog/first",
        title="First & foremost",
        summary="Hello there Second para",
        published=datetime(2025, 6, 10, 10, 30, tzinfo=UTC),
        image_url="https://news.example.com/img/first.jpg",
    )
    assert second.link == "https://other.example.org/second?x=1"
    assert second.summary == "Plain text only"
    assert second.published is None
    assert second.image_url == "https://cdn.example.com/second.jpg"
    assert third.link is None  # javascript: is not a link
    assert third.image_url == "https://cdn.example.com/third.png"  # the image enclosure
    assert fourth.title is None
    assert fourth.link is None
    assert fourth.image_url is None  # a video is no image
    assert fourth.summary == "No title, no link, no date"


def test_published_is_aware_utc() -> None:
    published = read_feed(fetched(RSS)).entries[0].published
    assert published is not None
    assert published.utcoffset() is not None
    assert published.tzinfo == UTC


def test_rss_entries_keep_feed_order() -> None:
    titles = [entry.title for entry in read_feed(fetched(RSS)).entries]
    assert titles == ["First & foremost", "Second", "Third", None]


# --- Atom -----------------------------------------------------------------------------------


def test_atom() -> None:
    doc = read_feed(fetched(ATOM, content_type="application/atom+xml"))
    assert doc.title == "The Example blog"
    one, two, three = doc.entries
    assert one == Entry(
        id="tag:example.org,2025:1",
        link="https://blog.example.org/en/posts/one",
        title="Entry one",
        summary="Summary one",
        published=datetime(2025, 6, 9, 8, 0, tzinfo=UTC),  # published wins over updated
        image_url="https://blog.example.org/media/one.webp",
    )
    assert two.title == "Entry two"
    assert two.summary == "Body of two"  # from the content, markup stripped
    assert two.published == datetime(2025, 6, 9, 4, 59, 59, tzinfo=UTC)  # from updated
    assert three.link is None  # feedparser offers the tag: id as link; not http
    assert three.summary == "A <plain> text summary"  # text, not markup


# --- limits and odd values ------------------------------------------------------------------


def rss_item(item: str, channel_title: str = "Feed") -> str:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel>'
        f"<title>{channel_title}</title><item>{item}</item></channel></rss>"
    )


def test_titles_and_summaries_are_clipped() -> None:
    item = f"<title>{'word ' * 200}</title><description>{'x' * 5_000}</description>"
    (entry,) = read_feed(fetched(rss_item(item))).entries
    assert entry.title is not None
    assert entry.summary is not None
    assert len(entry.title) <= MAX_TITLE
    assert entry.title.endswith("…")
    assert len(entry.summary) == MAX_SUMMARY
    assert entry.summary.endswith("…")


def test_control_characters_and_whitespace_are_cleaned() -> None:
    item = "<title>  A\t\n  title&#x202e; \x0b </title><description>x&#160;&#160;y</description>"
    (entry,) = read_feed(fetched(rss_item(item))).entries
    assert entry.title == "A title"
    assert entry.summary == "x y"


def test_an_over_long_link_is_dropped() -> None:
    item = f"<link>https://example.com/{'a' * MAX_LINK}</link><title>t</title>"
    (entry,) = read_feed(fetched(rss_item(item))).entries
    assert entry.link is None


def test_links_relative_to_the_feed_url() -> None:
    item = "<link>../post?id=1</link><title>t</title>"
    (entry,) = read_feed(fetched(rss_item(item))).entries
    assert entry.link == "https://news.example.com/post?id=1"


def test_a_leap_second_and_a_bad_date() -> None:
    leap = rss_item("<title>t</title><pubDate>Wed, 31 Dec 2016 23:59:60 GMT</pubDate>")
    (entry,) = read_feed(fetched(leap)).entries
    assert entry.published is None or entry.published.year in (2016, 2017)
    bad = rss_item("<title>t</title><pubDate>the day after tomorrow</pubDate>")
    (entry,) = read_feed(fetched(bad)).entries
    assert entry.published is None


def test_a_feed_with_no_entries_is_fine() -> None:
    body = '<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    assert read_feed(fetched(body)) == FeedDoc(title="Quiet", entries=())


def test_the_limits_match_the_content_rules() -> None:
    assert content.MAX_URL == MAX_LINK


# --- what is not a feed ---------------------------------------------------------------------


def test_an_empty_body() -> None:
    assert no_feed(fetched(b"")).key == "feedread.empty"
    assert no_feed(fetched(b" \n ")).key == "feedread.empty"


@pytest.mark.parametrize("content_type", ["text/html", "application/rss+xml", ""])
def test_an_html_page_instead_of_a_feed(content_type: str) -> None:
    body = (
        "<!DOCTYPE html><html><head><title>Our blog</title>"
        '<link rel="alternate" type="application/rss+xml" href="/feed"></head>'
        "<body><p>Welcome</p></body></html>"
    )
    assert no_feed(fetched(body, content_type=content_type)).key == "feedread.not_a_feed"


def test_xml_that_is_no_feed() -> None:
    body = '<?xml version="1.0"?><catalog><book id="1"/></catalog>'
    assert no_feed(fetched(body, content_type="application/xml")).key == "feedread.not_a_feed"


@pytest.mark.parametrize(
    "body",
    [
        b"\x00\xff\xfe not xml at all",
        b"<rss version='2.0'><channel><",
        b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><",
        b"just some words",
    ],
)
def test_malformed(body: bytes) -> None:
    assert no_feed(fetched(body)).key in ("feedread.malformed", "feedread.not_a_feed")
    assert no_feed(fetched(body[:3] + b"\x00" + body[3:])).key == "feedread.malformed"


def test_a_broken_feed_that_still_has_entries_is_read() -> None:
    body = b"<rss version='2.0'><channel><title>T</title><item><title>One</title></item>"
    doc = read_feed(fetched(body))
    assert [entry.title for entry in doc.entries] == ["One"]


# --- safety ---------------------------------------------------------------------------------


def test_expat_bounds_entity_expansion() -> None:
    assert pyexpat.version_info >= (2, 4, 1), pyexpat.EXPAT_VERSION
    assert EXPAT_PROTECTED


def billion_laughs(*, one_line: bool) -> bytes:
    """Ten levels of ten: `&lol9;` would expand to 10⁹ "lol"s. feedparser strips entity
    declarations that start a line; on one line they reach expat."""
    declarations = ['<!ENTITY lol0 "lol">']
    declarations += [f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)]
    gap = "" if one_line else "\n"
    return gap.join(
        [
            '<?xml version="1.0"?>',
            "<!DOCTYPE rss [",
            *declarations,
            "]>",
            '<rss version="2.0"><channel><title>&lol9;</title>',
            "<item><title>&lol9;</title><description>&lol9;</description></item>",
            "</channel></rss>",
        ]
    ).encode()


def test_expat_itself_refuses_the_expansion() -> None:
    parser = pyexpat.ParserCreate()
    with pytest.raises(pyexpat.ExpatError, match="amplification"):
        parser.Parse(billion_laughs(one_line=True), True)


@pytest.mark.parametrize("one_line", [False, True])
def test_a_billion_laughs_feed_is_bounded(one_line: bool) -> None:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        doc: FeedDoc | None = read_feed(fetched(billion_laughs(one_line=one_line)))
    except NoFeed:
        doc = None
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 10  # measured about 1 s
    assert peak < 200_000_000  # fully expanded, one title alone would be 3 GB
    for entry in doc.entries if doc else ():
        assert entry.title is None or len(entry.title) <= MAX_TITLE
        assert entry.summary is None or len(entry.summary) <= MAX_SUMMARY


def test_a_body_naming_a_local_file_is_not_opened(tmp_path: Path) -> None:
    """feedparser 6.0 tries `open()` on raw bytes; the reader hands it a file object."""
    local = tmp_path / "feed.xml"
    local.write_text(RSS, "utf-8")
    with pytest.raises(NoFeed):
        read_feed(fetched(str(local).encode()))


def test_feedparser_never_fetches(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("feedparser tried to fetch")

    monkeypatch.setattr(feedparser.http, "get", refuse)
    with pytest.raises(NoFeed):
        read_feed(fetched(b"https://evil.example.com/feed.xml"))
    body = rss_item("<title>t</title><link>file:///etc/passwd</link>").replace(
        '<?xml version="1.0"?>',
        '<?xml version="1.0"?><!DOCTYPE rss SYSTEM "https://evil.example.com/x.dtd">',
    )
    (entry,) = read_feed(fetched(body)).entries
    assert entry.link is None


def test_a_crash_inside_feedparser_becomes_malformed(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(bot.feedread.feedparser, "parse", explode)
    assert no_feed(fetched(RSS)).key == "feedread.malformed"


# --- never anything but NoFeed --------------------------------------------------------------

FRAGMENTS = [
    '<?xml version="1.0"?>',
    '<rss version="2.0">',
    "</rss>",
    "<channel>",
    "</channel>",
    "<item>",
    "</item>",
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    "</feed>",
    "<entry>",
    "</entry>",
    "<title>",
    "</title>",
    '<title type="html">',
    "<link>",
    "</link>",
    '<link href="',
    '"/>',
    "<guid>",
    "</guid>",
    "<id>",
    "</id>",
    "<description>",
    "</description>",
    "<pubDate>",
    "Tue, 10 Jun 2025 12:30:00 +0200",
    "</pubDate>",
    "<updated>",
    "9999-99-99T99:99:99Z",
    "</updated>",
    '<media:content xmlns:media="http://search.yahoo.com/mrss/" url="',
    '<enclosure type="image/png" url="',
    "javascript:x",
    "/rel/path",
    "http://[::1",
    "&lt;p&gt;",
    "&amp;",
    "&#",
    "<![CDATA[",
    "]]>",
    "<!DOCTYPE x [<!ENTITY a 'b'>]>",
    "&a;",
    "<",
    ">",
    "\x00",
    "é",
]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2_000), st.sampled_from(["application/rss+xml", "text/html", ""]))
def test_random_bytes_give_a_feed_or_no_feed(body: bytes, content_type: str) -> None:
    try:
        doc = read_feed(fetched(body, content_type=content_type))
    except NoFeed as refused:
        assert_refused(refused, "feedread.empty", "feedread.malformed", "feedread.not_a_feed")
        return
    assert isinstance(doc.entries, tuple)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=10), max_size=60))
def test_random_feed_soup_gives_a_feed_or_no_feed(parts: list[str]) -> None:
    try:
        doc = read_feed(fetched("".join(parts).encode("utf-8", errors="replace")))
    except NoFeed as refused:
        assert_refused(refused, "feedread.empty", "feedread.malformed", "feedread.not_a_feed")
        return
    assert doc.title is None or len(doc.title) <= MAX_TITLE
    for entry in doc.entries:
        for url in (entry.link, entry.image_url):
            assert url is None or url.startswith(("http://", "https://"))
        assert entry.title is None or len(entry.title) <= MAX_TITLE
        assert entry.summary is None or len(entry.summary) <= MAX_SUMMARY
        assert entry.published is None or entry.published.tzinfo == UTC


# --- the catalog ----------------------------------------------------------------------------


def test_every_no_feed_key_is_in_both_catalogs_with_its_params() -> None:
    source = Path(__file__).resolve().parent.parent / "bot" / "feedread.py"
    keys = raised_keys(source, "NoFeed")
    assert set(keys) == {"feedread.empty", "feedread.malformed", "feedread.not_a_feed"}
    for language in ("en", "fr"):
        messages = catalog(language)
        for key, params in keys.items():
            assert placeholders(messages[key]) == params, (language, key)
