"""The reply's own words: quoted history and signatures stripped.

Text rules must never read the thread below a reply: the candidate's own earlier mail,
quoted there, may say "unfortunately" too. `mail-parser-reply` recognises the quote
headers of Gmail ("On ... wrote:"), Outlook ("From: ... Sent: ...", "-----Original
Message-----") and Apple Mail ("On 1 Dec 2026, at 09:00, ... wrote:") and splits off
signatures; simple rules then drop whatever quoted ("> ") lines or quote headers it left.
"""

from __future__ import annotations

import re

from mailparser_reply import EmailReplyParser

# Quote headers the library may miss (e.g. wrapped over two lines), and what follows them.
QUOTE_HEADERS = (
    re.compile(r"^\s*-{2,}\s*original message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*forwarded message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*_{8,}\s*$"),  # Outlook's rule above "From: ... Sent: ..."
    re.compile(r"^\s*(from|von|de):\s.+$", re.IGNORECASE),
    re.compile(r"^\s*on\b.{0,200}\bwrote:\s*$", re.IGNORECASE),
)
SIGNATURE_MARK = re.compile(r"^-- ?$")  # RFC 3676 signature separator
SIGNATURE_LINE = 50  # longest line a signature is believed to have
MOBILE_FOOTER = re.compile(r"^\s*sent from my \w+.*$", re.IGNORECASE)


def _rules(text: str) -> str:
    """Cut at the first quote header or signature mark; drop "> " lines anywhere."""
    kept: list[str] = []
    lines = text.split("\n")
    for i, line in enumerate(lines):
        joined = f"{line} {lines[i + 1]}" if i + 1 < len(lines) else line
        if SIGNATURE_MARK.match(line) or any(p.match(line) for p in QUOTE_HEADERS):
            break
        if i + 1 < len(lines) and QUOTE_HEADERS[-1].match(joined) and not line.startswith(">"):
            break  # "On Tue, 1 Dec 2026 at 09:00, Ana Diaz" / "<ana@example.org> wrote:"
        if line.lstrip().startswith(">") or MOBILE_FOOTER.match(line):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def _without_signature(body: str, content: str, signature: str) -> str:
    """The library's body, unless what it called a signature reads like prose.

    Its signature rule starts at a line such as "Thank you, ..." and would drop a reply
    that opens with thanks; a real signature is a few short lines (name, title, phone).
    """
    lines = [line.strip() for line in (signature or "").splitlines() if line.strip()]
    if body and lines and all(len(line) <= SIGNATURE_LINE for line in lines):
        return body
    return content or body


def strip_reply(text: str, languages: tuple[str, ...] = ("en",)) -> str:
    """The newly written text of a reply, without quoted history or signature."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return ""
    try:
        parsed = EmailReplyParser(languages=list(languages)).read(text=text)
        latest = parsed.replies[0] if parsed.replies else None
        own = _without_signature(latest.body, latest.content, latest.signatures) if latest else text
    except Exception:  # the library is a heuristic: a crash must not lose the reply
        own = text
    return _rules(own or "")
