"""What a rendered message becomes before it goes: CSS inlined into the HTML (mail clients drop
``<style>``), a text part generated from the HTML when the activity gives none, SMS length and
segments (GSM-7 or UCS-2), subjects on one line.

- ``inline_css(html)``: css-inline with remote stylesheets NEVER fetched (``<link>`` is dropped:
  a message must not make the worker reach the network); HTML without ``<style`` is left as is.
- ``html_to_text(html)``: readable text: blocks and ``<br>`` as line breaks, list items with
  ``- ``, links as ``text (url)``, ``<head>``, ``<style>`` and ``<script>`` dropped.
- ``sms_segments(text) -> {"characters", "encoding", "segments"}``: GSM-7 when every character is
  in the GSM 03.38 alphabet (extension characters count twice), 160 characters in one segment or
  153 per segment; otherwise UCS-2, counted in UTF-16 code units, 70 or 67 per segment.
- ``one_line(text)``: CR and LF (and runs of them) become one space; trimmed.
"""

import math
import re
from html.parser import HTMLParser

import css_inline

_inliner = css_inline.CSSInliner(load_remote_stylesheets=False, keep_link_tags=False)

GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€\f")
BLOCKS = {
    "p", "div", "br", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol",
    "section", "article", "header", "footer", "blockquote", "hr",
}  # fmt: skip
SKIPPED = {"head", "style", "script", "title"}


def inline_css(html: str) -> str:
    if "<style" not in html and "<link" not in html:
        return html
    try:
        return _inliner.inline(html)
    except css_inline.InlineError:
        return html


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skip, self.links = [], 0, []

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED:
            self.skip += 1
        elif tag in BLOCKS:
            self.parts.append("\n")
            if tag == "li":
                self.parts.append("- ")
        if tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.parts)))

    def handle_endtag(self, tag):
        if tag in SKIPPED:
            self.skip = max(0, self.skip - 1)
        elif tag in BLOCKS:
            self.parts.append("\n")
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            text = "".join(self.parts[start:]).strip()
            if href and not href.startswith(("#", "mailto:")) and href != text:
                self.parts.append(f" ({href})")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def one_line(text: str) -> str:
    return re.sub(r"[\r\n]+", " ", text or "").strip()


def sms_segments(text: str) -> dict:
    text = text or ""
    if all(c in GSM_BASIC or c in GSM_EXTENDED for c in text):
        units = len(text) + sum(1 for c in text if c in GSM_EXTENDED)
        segments = 1 if units <= 160 else math.ceil(units / 153)
        return {"characters": units, "encoding": "GSM-7", "segments": segments if text else 0}
    units = len(text.encode("utf-16-le")) // 2
    segments = 1 if units <= 70 else math.ceil(units / 67)
    return {"characters": units, "encoding": "UCS-2", "segments": segments}


def describe_sms(text: str) -> str:
    info = sms_segments(text)
    plural = "s" if info["segments"] != 1 else ""
    return (
        f"{info['characters']} characters, {info['encoding']}, {info['segments']} segment{plural}"
        " (before personalization)"
    )
