"""Many inbound messages for a seeded org (tests/inbound/seeding.py), in a realistic mix.

Mostly human replies to the thank-yous Touchbase sent (threaded by In-Reply-To and
References, or a fresh thread from the contact's own address), and the rest of what a
mailbox really receives: out-of-office answers with and without a return date, other
auto-replies, Postfix / Exchange / Gmail bounces (hard and soft) of those thank-yous,
mail from people Touchbase never wrote to, copies of our own messages, the same message
delivered twice, and now and then a reply with a large attachment.

Half the messages are corpus messages (tests/inbound/corpus/) re-addressed to a seeded
contact: their Message-IDs, From, To and Date rewritten, every Touchbase Message-ID they
name replaced by the contact's thank-you, a bounce's failed recipient by the contact's
address. The other half are composed from sentence pools, with or without Gmail-style
quoted history. Each message carries what the pipeline should make of it (``expect``).
"""

from __future__ import annotations

import random
import re
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.inbound.conftest import build
from tests.inbound.seeding import SeededContact

CORPUS = Path(__file__).parent / "corpus"
TOUCHBASE_ID = re.compile(rb"<[0-9.]+\.touchbase@example\.org>")

#: (intent, share of the messages, expected outcome)
MIX = (
    ("reply_thread", 0.58, "recorded"),
    ("reply_sender", 0.10, "recorded"),
    ("recruiter", 0.03, "recorded"),
    ("unmatched", 0.06, "unmatched"),
    ("bounce", 0.05, "recorded"),
    ("ooo_dated", 0.05, "recorded"),
    ("auto_reply", 0.06, "ignored"),
    ("own_copy", 0.02, "ignored"),
    ("duplicate", 0.05, "duplicate"),
)
HUMAN_KINDS = (("replied", 55), ("rejected", 18), ("next_round", 12), ("decision_date", 10))
HUMAN_KINDS += (("offer", 5),)
ATTACHMENT_SHARE = 0.02
ATTACHMENT_BYTES = 150_000

LINES = {
    "replied": (
        "Thanks for the kind note, it was great meeting you too.",
        "Appreciate you following up. I've shared your notes with the team.",
        "Thank you, I enjoyed our conversation as well. We will be in touch.",
        "Great to hear from you. The team enjoyed the discussion about the pipeline.",
    ),
    "rejected": (
        "Unfortunately, we have decided to move forward with other candidates.",
        "We regret to inform you that we will not be moving forward with your application.",
        "After careful consideration we have decided not to proceed with your candidacy.",
    ),
    "next_round": (
        "We would like to invite you to a second round interview with the team.",
        "We'd love to have you back for a final interview with our director.",
        "Could you share your availability for the next round of interviews?",
    ),
    "decision_date": (
        "We will let you know by Friday the 11th.",
        "We expect to make a decision by December 15.",
        "You will hear from us by the end of next week.",
    ),
    "offer": (
        "We are pleased to offer you the position. The offer letter is attached.",
        "I'm delighted to extend an offer for the Engineer role.",
    ),
}
FILLER = (
    "Let me know if you have any questions in the meantime.",
    "Hope the rest of your week goes well.",
    "",
    "I'll loop in our recruiter, who handles scheduling.",
)


@dataclass(frozen=True)
class Mail:
    raw: bytes
    intent: str
    expect: str  # recorded | ignored | unmatched | duplicate
    contact_id: int | None


def _corpus() -> dict[str, list[tuple[bytes, dict]]]:
    expected = tomllib.loads((CORPUS / "expected.toml").read_text())
    groups: dict[str, list[tuple[bytes, dict]]] = {}
    for name, facts in expected.items():
        kind = facts["kind"]
        if name.startswith("recruiter"):
            kind = "recruiter"
        elif kind == "out_of_office":
            kind = "ooo_dated"
        groups.setdefault(kind, []).append(((CORPUS / name).read_bytes(), facts))
    return groups


def _split(raw: bytes) -> tuple[bytes, bytes]:
    at = raw.find(b"\n\n")
    return (raw[:at], raw[at:]) if at >= 0 else (raw, b"")


def _set_header(head: bytes, name: str, value: str | None) -> bytes:
    """Replace (or with None remove) a top-level header, folded lines and all."""
    pattern = re.compile(rb"^" + name.encode() + rb":.*(?:\n[ \t].*)*\n?", re.I | re.M)
    line = f"{name}: {value}\n".encode() if value is not None else b""
    if pattern.search(head + b"\n"):
        return pattern.sub(lambda _: line, head + b"\n", count=1).rstrip(b"\n")
    return head + b"\n" + line.rstrip(b"\n") if line else head


class Generator:
    """Messages for ``contacts`` (cycled in a shuffled order), reproducible from ``seed``."""

    def __init__(self, contacts: list[SeededContact], now: datetime, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.contacts = list(contacts)
        self.rng.shuffle(self.contacts)
        self.now = now
        self.corpus = _corpus()
        self.n = 0

    def messages(self, count: int) -> list[Mail]:
        intents = [m[0] for m in MIX]
        weights = [m[1] for m in MIX]
        expects = {m[0]: m[2] for m in MIX}
        out: list[Mail] = []
        for _ in range(count):
            intent = self.rng.choices(intents, weights)[0]
            if intent == "duplicate" and out:
                first = self.rng.choice(out[-500:])
                out.append(Mail(first.raw, "duplicate", "duplicate", first.contact_id))
                continue
            if intent == "duplicate":
                intent = "reply_thread"
            contact = self.contacts[self.n % len(self.contacts)]
            self.n += 1
            out.append(Mail(self._one(intent, contact), intent, expects[intent], contact.id))
        return out

    # ------------------------------------------------------------------ one message

    def _date(self, contact: SeededContact) -> str:
        when = self.now - timedelta(minutes=self.rng.randint(1, 85))
        return format_datetime(when.astimezone(ZoneInfo("America/New_York")))

    def _own_id(self, domain: str) -> str:
        return f"<bench.{self.n}.{self.rng.getrandbits(48):x}@mail.{domain}>"

    def _one(self, intent: str, c: SeededContact) -> bytes:
        if intent == "own_copy":
            return build(
                f"Dear {c.name},\n\nThank you for taking the time to meet with me.\n",
                From=f"{c.candidate_name} <{c.candidate_email}>",
                To=f"{c.name} <{c.email}>",
                Subject="Thank you for the Engineer interview",
                Date=self._date(c),
                Message_ID=c.thank_you_id,
                In_Reply_To=None,
            )
        if intent in ("bounce", "ooo_dated", "auto_reply", "recruiter"):
            return self._from_corpus(intent, c)
        kind = self.rng.choices([k for k, _ in HUMAN_KINDS], [w for _, w in HUMAN_KINDS])[0]
        if self.rng.random() < ATTACHMENT_SHARE:
            return self._with_attachment(kind, c, intent)
        if self.rng.random() < 0.5 and kind in self.corpus:
            return self._from_corpus(kind, c, intent)
        return self._composed(kind, c, intent)

    def _threading(self, c: SeededContact, intent: str) -> dict[str, str | None]:
        if intent == "reply_thread":
            return {"In_Reply_To": c.thank_you_id, "References": c.thank_you_id}
        if intent == "unmatched":
            unknown = f"<{self.rng.getrandbits(64):x}@elsewhere.example>"
            return {"In_Reply_To": unknown, "References": unknown}
        return {"In_Reply_To": None, "References": None}

    def _sender(self, c: SeededContact, intent: str) -> str:
        if intent == "unmatched":
            return f"Sam Stranger <sam.{self.rng.getrandbits(32):x}@elsewhere.example>"
        if intent == "recruiter":
            return f'"Jordan Lee (Talent)" <talent@{c.company_domain}>'
        if intent == "reply_sender" and self.rng.random() < 0.5:  # case must not matter
            return f"{c.name} <{c.email.upper()}>"
        return f"{c.name} <{c.email}>"

    def _body(self, kind: str, c: SeededContact, quoted: bool) -> str:
        first = c.name.split()[0]
        lines = [f"Hi {c.candidate_name.split()[0]},", "", self.rng.choice(LINES[kind])]
        filler = self.rng.choice(FILLER)
        if filler:
            lines.append(filler)
        lines += ["", "Best,", first, ""]
        if quoted:
            lines += [
                f"On Tue, Dec 1, 2026 at 1:43 PM {c.candidate_name} <{c.candidate_email}> wrote:",
                "",
                f"> Dear {c.name},",
                ">",
                "> Thank you for taking the time to meet with me about the Engineer role.",
                "> I especially enjoyed our conversation about the billing pipeline.",
                ">",
                f"> Best regards,\n> {c.candidate_name}",
            ]
        return "\n".join(lines) + "\n"

    def _composed(self, kind: str, c: SeededContact, intent: str) -> bytes:
        return build(
            self._body(kind, c, quoted=self.rng.random() < 0.7),
            From=self._sender(c, intent),
            To=f"{c.candidate_name} <{c.candidate_email}>",
            Subject="Re: Thank you for the Engineer interview",
            Date=self._date(c),
            Message_ID=self._own_id(c.company_domain),
            **self._threading(c, intent),
        )

    def _with_attachment(self, kind: str, c: SeededContact, intent: str) -> bytes:
        msg = EmailMessage()
        msg["From"] = self._sender(c, intent)
        msg["To"] = f"{c.candidate_name} <{c.candidate_email}>"
        msg["Subject"] = "Re: Thank you for the Engineer interview"
        msg["Date"] = self._date(c)
        msg["Message-ID"] = self._own_id(c.company_domain)
        for name, value in self._threading(c, intent).items():
            if value:
                msg[name.replace("_", "-")] = value
        msg.set_content(self._body(kind, c, quoted=True))
        blob = self.rng.randbytes(ATTACHMENT_BYTES)
        msg.add_attachment(blob, maintype="application", subtype="pdf", filename="details.pdf")
        return msg.as_bytes()

    def _from_corpus(self, kind: str, c: SeededContact, intent: str | None = None) -> bytes:
        raw, facts = self.rng.choice(self.corpus[kind])
        intent = intent or kind
        raw = raw.replace(b"\r\n", b"\n")
        raw = TOUCHBASE_ID.sub(c.thank_you_id.encode(), raw)
        if kind == "bounce":
            raw = raw.replace(facts["recipient"].encode(), c.email.encode())
        head, body = _split(raw)
        head = _set_header(head, "Date", self._date(c))
        if kind != "bounce":
            head = _set_header(head, "Message-ID", self._own_id(c.company_domain))
            head = _set_header(head, "From", self._sender(c, intent))
            head = _set_header(head, "To", f"{c.candidate_name} <{c.candidate_email}>")
            if intent in ("reply_sender", "unmatched"):
                for name, value in self._threading(c, intent).items():
                    head = _set_header(head, name.replace("_", "-"), value)
        else:
            head = _set_header(head, "Message-ID", self._own_id("mx.candidates.example"))
        return head + body
