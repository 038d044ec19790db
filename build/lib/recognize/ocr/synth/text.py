"""Realistic English text lines for synthetic OCR training, built from offline sources only.

Sources: the word list ``/usr/share/dict/words`` (Debian ``wamerican``), the Debian ``fortunes``
cookies and the licence texts in ``/usr/share/common-licenses``, plus generated numbers, dates,
prices, phone numbers, codes, receipt lines, citations and headings. Every line is 1..90
characters long and uses only :data:`CHARSET`. All randomness comes from the ``random.Random``
passed in, so a line is a pure function of the generator state.
"""
from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ASCII = "".join(chr(c) for c in range(32, 127))
PUNCT_EXTRA = "“”‘’–—…•·°©®™§¶†£€¥¢½¼¾×±²³µ«»¿¡"
LATIN1_LETTERS = "ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝßàáâãäåæçèéêëìíîïñòóôõöøùúûüýÿŒœ"
#: Every character the generator may emit (the model vocabulary is built from it).
CHARSET: str = ASCII + PUNCT_EXTRA + LATIN1_LETTERS
_CHARSET_SET = frozenset(CHARSET)
MAX_LEN = 90

WORDS_PATH = Path(os.environ.get("RECOGNIZE_WORDS", "/usr/share/dict/words"))
FORTUNE_DIR = Path(os.environ.get("RECOGNIZE_FORTUNES", "/usr/share/games/fortunes"))
LICENSE_DIR = Path(os.environ.get("RECOGNIZE_LICENSES", "/usr/share/common-licenses"))
# Cookie files that are pictures rather than prose.
_SKIP_FORTUNES = {"ascii-art"}

ACCENTED_WORDS = (
    "café", "naïve", "résumé", "façade", "déjà vu", "fiancée", "São Paulo", "Zürich", "Müller",
    "Ångström", "jalapeño", "piñata", "señor", "Gödel", "Curaçao", "Bogotá", "Kraków", "Málaga",
    "Montréal", "Québec", "crème brûlée", "entrée", "soufflé", "über", "Björk", "Øresund",
    "Æsop", "encyclopædia", "œuvre", "Straße", "Dvorák", "Schrödinger", "Fréchet",
    "Poincaré", "Cauchy–Schwarz", "Erdös", "Hölder", "Lévy", "Cramér", "Kähler", "Möbius",
    "Hôtel", "Château", "Ibáñez", "García", "Peña", "Muñoz", "Gonçalves", "João", "Françoise",
    "Renée", "Zoë", "Noël", "rôle", "élite", "coördinate", "protégé", "cliché", "doppelgänger",
)
ABBREVIATIONS = (
    "e.g.", "i.e.", "etc.", "cf.", "et al.", "vs.", "Dr.", "Mr.", "Mrs.", "Ms.", "Prof.", "St.",
    "Inc.", "Ltd.", "Co.", "No.", "Vol.", "pp.", "Fig.", "Eq.", "Sec.", "Ch.", "Jan.", "Feb.",
    "Aug.", "Sept.", "Oct.", "Nov.", "Dec.", "a.m.", "p.m.", "U.S.", "U.K.", "Ph.D.", "approx.",
    "min.", "max.", "ca.", "ibid.", "op. cit.", "N.Y.", "Jr.", "Sr.", "Dept.", "Univ.", "Ave.",
)
RECEIPT_WORDS = (
    "JALAN", "TAMAN", "LORONG", "BANDAR", "SDN BHD", "SDN. BHD.", "ENTERPRISE", "TRADING",
    "KUALA LUMPUR", "SELANGOR", "JOHOR BAHRU", "PETALING JAYA", "SHAH ALAM", "PERAK", "PENANG",
    "MART", "HARDWARE", "STATIONERY", "RESTAURANT", "BOOKSTORE", "PHARMACY", "SUPERMARKET",
    "KEDAI", "GARDEN", "PLAZA", "INDUSTRIAL PARK", "WISMA", "BATU", "KAMPUNG", "NO.", "LOT",
)
RECEIPT_ITEMS = (
    "MILO ICE", "TEH TARIK", "KOPI O", "NASI LEMAK", "ROTI CANAI", "MINERAL WATER", "SUGAR 1KG",
    "RICE 5KG", "COOKING OIL", "A4 PAPER", "BALL PEN BLUE", "GLUE STICK", "MODELLING CLAY",
    "PAINT BRUSH", "SCREW 2 INCH", "PVC PIPE", "CHICKEN RICE", "ICED LEMON TEA", "FRIED NOODLE",
    "PLASTIC BAG", "BATTERY AA", "TISSUE BOX", "EXERCISE BOOK", "CORRECTION TAPE", "FILE CLIP",
)
RECEIPT_FIXED = (
    "THANK YOU", "THANK YOU. PLEASE COME AGAIN.", "GOODS SOLD ARE NOT RETURNABLE",
    "GOODS SOLD ARE NOT RETURNABLE OR EXCHANGEABLE", "TAX INVOICE", "SIMPLIFIED TAX INVOICE",
    "CASH BILL", "OFFICIAL RECEIPT", "CUSTOMER COPY", "QTY PRICE AMOUNT", "CODE/DESC",
    "ITEM QTY U/PRICE TOTAL", "***", "* * * * *", "----------------", "================",
    "SERVICE CHARGE", "ROUNDING ADJUSTMENT", "TOTAL SALES (INCLUSIVE GST)", "CHANGE DUE",
    "PLEASE KEEP THIS RECEIPT", "EXCHANGE WITHIN 7 DAYS WITH RECEIPT.", "SUMMARY", "MEMBER:",
)
RECEIPT_LABELS = (
    "TOTAL", "SUBTOTAL", "SUB TOTAL", "CASH", "CHANGE", "GST", "SST", "TAX", "DISCOUNT",
    "ROUNDING", "NET TOTAL", "GRAND TOTAL", "TOTAL (RM)", "AMOUNT", "BALANCE", "VISA", "CREDIT",
    "TOTAL INCL. GST", "TOTAL QTY", "TENDERED", "ROUNDING ADJ",
)
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
TLDS = ("com", "org", "net", "edu", "gov", "co.uk", "com.my", "de", "io", "info")


class SourceMissingError(FileNotFoundError):
    """A required offline text source is not installed."""


@dataclass(frozen=True)
class Corpus:
    """Loaded text sources (tuples, so that choices are reproducible)."""

    words: tuple[str, ...]
    lower_words: tuple[str, ...]
    proper_names: tuple[str, ...]
    sentences: tuple[str, ...]
    paragraphs: tuple[tuple[str, ...], ...]  # paragraphs as word tuples, for running-text windows


def _require(path: Path, package: str) -> Path:
    if not path.exists():
        raise SourceMissingError(
            f"text source {path} is missing: install the Debian package {package!r} "
            f"(apt-get install {package})")
    return path


def _clean(text: str) -> str:
    """Remove overstrikes/control characters and collapse whitespace."""
    text = re.sub(r".\x08", "", text)
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", text)
    return re.sub(r"\s+", " ", text).strip()


def _ok(text: str) -> bool:
    return bool(text) and all(c in _CHARSET_SET for c in text)


def _prose_like(line: str) -> bool:
    """Reject ASCII art, tables and code: prose is mostly letters and spaces."""
    s = line.strip()
    if not s:
        return False
    good = sum(c.isalpha() or c == " " for c in s)
    return good / len(s) > 0.75 and not re.search(r"[|_\\/#=~^<>{}]{3,}|\s{6,}\S", line)


_SENT_SPLIT = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])")


def _fortune_paragraphs(root: Path) -> list[str]:
    files = sorted(p for p in root.iterdir()
                   if p.is_file() and not p.suffix and p.name not in _SKIP_FORTUNES)
    if not files:
        raise SourceMissingError(f"no fortune files in {root}: apt-get install fortunes")
    out: list[str] = []
    for path in files:
        raw = path.read_text(encoding="utf-8", errors="replace")
        for entry in re.split(r"^%\s*$", raw, flags=re.M):
            lines = [ln for ln in entry.splitlines()
                     if not re.match(r"^\s*(-{1,3}|~~)\s*[A-Z(\[]", ln)]  # attributions
            if not lines or not all(_prose_like(ln) or not ln.strip() for ln in lines):
                continue
            if sum(bool(re.match(r"^\s*[A-Z][a-z]*:", ln)) for ln in lines) > 2:
                continue  # dialogue/script formatting
            text = _clean(" ".join(lines))
            if 20 <= len(text) and _ok(text):
                out.append(text)
    return out


def _license_paragraphs(root: Path) -> list[str]:
    out: list[str] = []
    for path in sorted(p for p in root.iterdir() if p.is_file()):
        raw = path.read_text(encoding="utf-8", errors="replace")
        for block in re.split(r"\n\s*\n", raw):
            text = _clean(block)
            if len(text) >= 40 and _ok(text) and _prose_like(text):
                out.append(text)
    return out


@lru_cache(maxsize=1)
def load_corpus() -> Corpus:
    """Read all offline sources once per process; raise :class:`SourceMissingError` if absent."""
    words_raw = _require(WORDS_PATH, "wamerican").read_text(encoding="utf-8").split()
    words = [w for w in words_raw if _ok(w) and not w.endswith("'s")]
    paras = _fortune_paragraphs(_require(FORTUNE_DIR, "fortunes"))
    paras += _license_paragraphs(_require(LICENSE_DIR, "base-files"))
    sentences = [s.strip() for p in paras for s in _SENT_SPLIT.split(p)]
    sentences = [s for s in sentences if 3 <= len(s)]
    return Corpus(
        words=tuple(words),
        lower_words=tuple(w for w in words if w.islower()),
        proper_names=tuple(w for w in words if w[:1].isupper() and w[1:].islower() and len(w) > 2),
        sentences=tuple(sentences),
        paragraphs=tuple(tuple(p.split()) for p in paras if len(p) > 60),
    )


# ---------------------------------------------------------------- generated entities

def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def number(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.35:
        return str(rng.randint(0, 100))
    if kind < 0.55:
        return str(rng.randint(100, 99999))
    if kind < 0.7:
        return f"{rng.randint(1000, 9999999):,}"
    if kind < 0.9:
        return f"{rng.uniform(0, 1000):.{rng.randint(1, 3)}f}"
    return f"{rng.choice(['-', '-', '+', '+', '±'])}{rng.uniform(0, 100):.{rng.randint(1, 2)}f}"


def date(rng: random.Random) -> str:
    y, m, d = rng.randint(1900, 2030), rng.randint(1, 12), rng.randint(1, 28)
    month = MONTHS[m - 1]
    return rng.choice((
        f"{d:02d}/{m:02d}/{y}", f"{m}/{d}/{y % 100:02d}", f"{y}-{m:02d}-{d:02d}", f"{d}.{m}.{y}",
        f"{month} {d}, {y}", f"{d} {month} {y}", f"{month[:3]}. {d}, {y}", f"{d}-{month[:3]}-{y}",
        f"{d:02d}-{m:02d}-{y}", f"{month} {y}", str(y), f"{d} {month[:3].upper()} {y}",
    ))


def time_(rng: random.Random) -> str:
    h, m, s = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
    h12 = h % 12 or 12
    ap, dot, lo = ("AM", "a.m.", "am") if h < 12 else ("PM", "p.m.", "pm")
    return rng.choice((f"{h:02d}:{m:02d}", f"{h}:{m:02d}:{s:02d}", f"{h12}:{m:02d} {ap}",
                       f"{h12}:{m:02d} {dot}", f"{h12}:{m:02d}:{s:02d} {ap}", f"{h12}{lo}"))


def price(rng: random.Random) -> str:
    v = rng.choice((rng.uniform(0, 20), rng.uniform(0, 200), rng.uniform(0, 5000)))
    amount = f"{v:,.2f}" if rng.random() < 0.8 else f"{int(v):,}"
    cur = rng.choice(("$", "$", "$", "£", "€", "RM", "RM ", "USD ", "¥", "¢"))
    if cur == "¢":
        return f"{int(v) % 100}¢"
    if cur == "€" and rng.random() < 0.4:
        return f"{amount.replace(',', ' ').replace('.', ',')} €"
    return f"{cur}{amount}"


def percent(rng: random.Random) -> str:
    v = rng.choice((rng.randint(0, 100), round(rng.uniform(0, 100), rng.randint(1, 2))))
    return f"{v}{rng.choice(('%', '%', ' %', ' percent'))}"


def phone(rng: random.Random) -> str:
    return rng.choice((
        f"({_digits(rng, 3)}) {_digits(rng, 3)}-{_digits(rng, 4)}", f"{_digits(rng, 3)}-{_digits(rng, 4)}",
        f"0{rng.randint(1, 9)}-{_digits(rng, 3)} {_digits(rng, 4)}", f"0{rng.randint(1, 9)}-{_digits(rng, 7)}",
        f"+{rng.randint(1, 99)} {_digits(rng, 2)} {_digits(rng, 4)} {_digits(rng, 4)}",
        f"{_digits(rng, 3)}.{_digits(rng, 3)}.{_digits(rng, 4)}", f"1-800-{_digits(rng, 3)}-{_digits(rng, 4)}",
    ))


def code(rng: random.Random) -> str:
    up = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return rng.choice((
        "".join(rng.choice(up) for _ in range(rng.randint(1, 3))) + _digits(rng, rng.randint(3, 9)),
        f"{_digits(rng, rng.randint(5, 7))}-{rng.choice(up)}", _digits(rng, 13),
        f"#{_digits(rng, rng.randint(3, 6))}", f"{rng.choice(up)}{rng.choice(up)}-{_digits(rng, 4)}-{_digits(rng, 2)}",
        f"ISBN 0-{_digits(rng, 3)}-{_digits(rng, 5)}-{rng.choice('0123456789X')}",
        f"{rng.choice(('INV', 'DOC', 'REF', 'ORD', 'CS'))}{_digits(rng, rng.randint(4, 8))}",
        "".join(rng.choice(up + "0123456789") for _ in range(rng.randint(6, 12))),
    ))


def email(rng: random.Random, c: Corpus) -> str:
    user = rng.choice(c.lower_words).replace("'", "")
    if rng.random() < 0.5:
        user = f"{rng.choice(c.lower_words)[:1]}{rng.choice('._')}{user}"
    host = rng.choice(c.lower_words).replace("'", "")
    return f"{user}{rng.choice(('', _digits(rng, 2)))}@{host}.{rng.choice(TLDS)}"


def url(rng: random.Random, c: Corpus) -> str:
    host = f"{rng.choice(('www.', '', 'ftp.'))}{rng.choice(c.lower_words).replace(chr(39), '')}.{rng.choice(TLDS)}"
    path = "/".join(rng.choice(c.lower_words).replace("'", "") for _ in range(rng.randint(0, 2)))
    return f"{rng.choice(('http://', 'https://', ''))}{host}{'/' + path if path else ''}"


def symbol(rng: random.Random, c: Corpus) -> str:
    """Tokens with less common symbols: degrees, fractions, units, marks, Spanish punctuation."""
    n = rng.randint(0, 120)
    w = rng.choice(c.lower_words)
    return rng.choice((
        f"{n}°C", f"{n}° F", f"{n}°{rng.randint(0, 59)}' N", f"© {rng.randint(1950, 2024)}", f"©{w.capitalize()}",
        f"{w.capitalize()}®", f"{w.capitalize()}™", f"{rng.randint(1, 9)}{rng.choice('½¼¾')}", rng.choice("½¼¾"),
        f"{n} m²", f"{n} cm³", "x²", f"{n} µm", f"{n} µs", f"«{w}»", f"« {w} »", f"¿{w.capitalize()}?",
        f"¡{w.capitalize()}!", f"§ {rng.randint(1, 40)}", f"§§ {n}-{n + 3}", f"¶ {n}", f"{n} × {rng.randint(1, 50)}",
        f"{n} ± {rng.randint(1, 9)}", f"~{n}", f"~/{w}", f"C:\\{w.capitalize()}\\{rng.choice(c.lower_words)}",
        f"{w}\\n", f"{n}{rng.choice('*†‡')}", f"{w}†", f"• {w}", f"{n} · {rng.randint(1, 9)}", f"{n}¢",
    ))


def entity(rng: random.Random, c: Corpus) -> str:
    """One generated non-word token (number, date, price, ...)."""
    f = rng.choice((number, number, date, time_, price, price, percent, phone, code))
    r = rng.random()
    if r < 0.04:
        return symbol(rng, c)
    if r < 0.1:
        return email(rng, c)
    if r < 0.15:
        return url(rng, c)
    if r < 0.22:
        return rng.choice(ABBREVIATIONS)
    return f(rng)


# ---------------------------------------------------------------- line generators

def _target_len(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.72:  # full book/journal line
        return max(30, min(MAX_LEN, int(rng.gauss(60, 12))))
    if r < 0.9:  # paragraph end / short line
        return rng.randint(3, 40)
    return rng.randint(1, MAX_LEN)


def _hyphen_split(word: str, rng: random.Random) -> str | None:
    """Prefix of ``word`` ending at a plausible hyphenation point, e.g. ``charac``."""
    core = word.rstrip(".,;:!?\"')")
    if len(core) < 6 or not core.isalpha():
        return None
    points = [i for i in range(2, len(core) - 2)
              if core[i - 1].lower() in "aeiouy" and core[i].lower() not in "aeiouy"]
    return core[: rng.choice(points)] if points else None


def _window(words: tuple[str, ...] | list[str], start: int, target: int) -> tuple[list[str], int]:
    out: list[str] = []
    n = 0
    i = start
    while i < len(words) and n + len(words[i]) + bool(out) <= target:
        n += len(words[i]) + bool(out)
        out.append(words[i])
        i += 1
    return out, i


def prose_line(rng: random.Random, c: Corpus) -> str:
    """A window of running text, like one line of a book page (maybe hyphenated at the end)."""
    para = rng.choice(c.paragraphs)
    target = _target_len(rng)
    start = 0 if rng.random() < 0.2 else rng.randrange(len(para))
    out, nxt = _window(para, start, target)
    if not out:
        out = [para[start][:target]]
    if nxt < len(para) and rng.random() < 0.25:
        room = target - sum(map(len, out)) - len(out)
        pre = _hyphen_split(para[nxt], rng)
        if pre and len(pre) + 1 <= max(room, 4):
            out.append(pre + "-")
    return " ".join(out)


def sentence_line(rng: random.Random, c: Corpus) -> str:
    s = rng.choice(c.sentences)
    if len(s) > MAX_LEN:
        words, _ = _window(s.split(), 0, _target_len(rng))
        s = " ".join(words) or s[:MAX_LEN]
    return s


def words_line(rng: random.Random, c: Corpus) -> str:
    """Random dictionary words: rare words, names and odd letter combinations."""
    n = rng.choice((1, 1, 2, 3, 4, 5, 6, 8, 10))
    ws = [rng.choice(c.words) for _ in range(n)]
    out = []
    for w in ws:
        r = rng.random()
        if r < 0.08:
            w = w.capitalize()
        elif r < 0.12:
            w = w.upper()
        if rng.random() < 0.12:
            w += rng.choice(",.;:!?")
        out.append(w)
    return " ".join(out)


def entity_line(rng: random.Random, c: Corpus) -> str:
    """Running text with numbers, dates, prices, e-mails, ... inserted (sometimes in brackets)."""
    base = prose_line(rng, c).split()
    for _ in range(rng.choice((1, 1, 2, 3))):
        e = entity(rng, c)
        r = rng.random()
        if r < 0.15:
            e = f"({e})"
        elif r < 0.2:
            e = f"[{e}]"
        elif r < 0.3:
            e += rng.choice(",.;:")
        base.insert(rng.randint(0, len(base) - base[-1].endswith("-")), e)  # keep a hyphen last
    return " ".join(base)


def receipt_line(rng: random.Random, c: Corpus) -> str:
    """A receipt line (mostly ALL CAPS): items, totals, addresses, dates, codes."""
    r = rng.random()
    amount = f"{rng.choice((rng.uniform(0, 30), rng.uniform(0, 300))):.2f}"
    if r < 0.22:
        item = rng.choice(RECEIPT_ITEMS) if rng.random() < 0.5 else " ".join(
            rng.choice(c.lower_words).upper() for _ in range(rng.randint(1, 4)))
        qty = rng.randint(1, 12)
        return rng.choice((f"{item}", f"{qty} X {item} {amount}", f"{item} {qty} {amount}",
                           f"{qty} {rng.choice(('PC', 'PCS', 'UNIT', 'KG'))}", f"{qty} @ {amount}",
                           f"{code(rng)} {item}", f"{item} {amount} {rng.choice('SZT')}"))
    if r < 0.4:
        lab = rng.choice(RECEIPT_LABELS)
        return rng.choice((f"{lab}: {amount}", f"{lab} {amount}", f"{lab} : RM {amount}", f"{lab}:",
                           lab, amount, f"{lab} {percent(rng)}", f"-{amount}", f"RM{amount}"))
    if r < 0.52:
        return rng.choice((f"DATE: {date(rng)} {time_(rng)}", f"{date(rng)} {time_(rng)}", date(rng),
                           f"TIME: {time_(rng)}", f"{date(rng)}", f"DATE : {date(rng)}"))
    if r < 0.64:
        lab = rng.choice(("TEL", "FAX", "TEL NO", "PHONE", "H/P", "INVOICE NO", "RECEIPT #", "DOC NO",
                          "GST REG NO", "GST ID", "CASHIER", "TABLE", "BILL NO", "REF", "CO. REG"))
        v = phone(rng) if lab in ("TEL", "FAX", "TEL NO", "PHONE", "H/P") else (
            rng.choice(c.lower_words).upper() if lab == "CASHIER" else code(rng))
        return rng.choice((f"{lab}: {v}", f"{lab} : {v}", f"{lab}. {v}", f"{lab} {v}", f"({v})"))
    if r < 0.8:
        place = rng.choice(RECEIPT_WORDS)
        name = " ".join(rng.choice(c.proper_names).upper() for _ in range(rng.randint(1, 2)))
        return rng.choice((f"NO. {rng.randint(1, 200)}, {place} {name} {rng.randint(1, 30)},",
                           f"{_digits(rng, 5)} {name},", f"{name} {place}", f"{place} {name},",
                           f"{name} {rng.choice(('SDN BHD', 'SDN. BHD.', 'ENTERPRISE', 'TRADING', 'MART'))}",
                           f"({_digits(rng, rng.randint(5, 7))}-{rng.choice('ADHKMPTUVWX')})",
                           f"LOT {rng.randint(1, 9999)}, {place} {name}"))
    if r < 0.9:
        return rng.choice(RECEIPT_FIXED)
    return rng.choice((code(rng), amount, str(rng.randint(1, 99)), _digits(rng, 13), price(rng).upper()))


def academic_line(rng: random.Random, c: Corpus) -> str:
    """Journal-style fragments: citations, section numbers, figure captions, formulas."""
    name = rng.choice(c.proper_names)
    ini = rng.choice("ABCDEFGHIJKLMNOPRSTW")
    y = rng.randint(1950, 2024)
    p = rng.randint(1, 900)
    heading = title_case(" ".join(rng.choice(c.lower_words) for _ in range(rng.randint(1, 4))))
    pieces = (
        f"[{name} {y}]", f"[{name} et al. {y}]", f"({name} and {rng.choice(c.proper_names)}, {y})",
        f"{ini}. {name}, {rng.choice('ABCDEFGHJKLMNPRS')}. {rng.choice(c.proper_names)} & "
        f"{rng.choice('ABCDEFGHJKLMNPRS')}. {rng.choice(c.proper_names)}:",
        f"Vol. {rng.randint(1, 90)}, No. {rng.randint(1, 12)}, pp. {p}-{p + rng.randint(2, 40)}",
        f"{rng.choice(('Fig.', 'Figure', 'Table', 'Section', 'Eq.', 'Theorem', 'Lemma'))} {rng.randint(1, 12)}"
        f"{rng.choice(('', '.', ':', f'.{rng.randint(1, 9)}'))}",
        f"{rng.randint(1, 9)}.{rng.randint(1, 9)} {heading}",
        f"{rng.choice('xyznkfgtab')} = {rng.randint(2, 9)}{rng.choice('xyznk')} {rng.choice('+-×')} "
        f"{rng.randint(1, 99)}",
        "f(n) = O(n log n)", f"{rng.choice('abcdxyz')}_{rng.randint(0, 9)} <= {rng.choice('abcdxyz')}^2",
        f"{ini}. {name}, {rng.choice(c.proper_names)} J. {rng.choice(c.proper_names)[:4]}. {rng.randint(1, 60)} ({y})",
    )
    head = rng.choice(pieces)
    if rng.random() < 0.5:
        words, _ = _window(prose_line(rng, c).split(), 0, max(0, _target_len(rng) - len(head) - 1))
        return " ".join([head, *words]) if rng.random() < 0.5 else " ".join([*words, head])
    return head


def heading_line(rng: random.Random, c: Corpus) -> str:
    words, _ = _window(rng.choice(c.sentences).split(), 0, rng.randint(8, 50))
    text = " ".join(words) or rng.choice(c.words)
    text = text.rstrip(".,;:")
    r = rng.random()
    if r < 0.45:
        text = title_case(text)
    elif r < 0.75:
        text = text.upper()
    if rng.random() < 0.3:
        text = f"{rng.randint(1, 12)}{rng.choice(('.', '', f'.{rng.randint(1, 9)}'))} {text}"
    return text


def table_line(rng: random.Random, c: Corpus) -> str:
    cols = [entity(rng, c) if rng.random() < 0.3 else number(rng) for _ in range(rng.randint(2, 7))]
    if rng.random() < 0.5:
        cols.insert(0, rng.choice(c.words).capitalize())
    return " ".join(cols)


_GENERATORS = (
    (prose_line, 0.36), (sentence_line, 0.10), (entity_line, 0.12), (receipt_line, 0.18),
    (academic_line, 0.07), (words_line, 0.07), (heading_line, 0.05), (table_line, 0.05),
)


# ---------------------------------------------------------------- typographic variation

def _smart_quotes(text: str) -> str:
    text = re.sub(r'(^|[\s(\[{])"', "\\1“", text)
    text = text.replace('"', "”")
    text = re.sub(r"(^|[\s(\[{])'", "\\1‘", text)
    return text.replace("'", "’")


def _latex_quotes(text: str) -> str:
    text = re.sub(r'(^|[\s(\[{])"', "\\1``", text)
    return text.replace('"', "''")


_ACCENTS = {
    "a": "áàâäãåæ", "e": "éèêë", "i": "íìîï", "o": "óòôöõøœ", "u": "úùûü", "y": "ýÿ", "n": "ñ",
    "c": "ç", "s": "ß",
}


def _accent_word(word: str, rng: random.Random) -> str:
    """Put an accented Latin-1 letter into ``word`` (keeps its case)."""
    spots = [i for i, ch in enumerate(word) if ch.lower() in _ACCENTS]
    if not spots:
        return word
    i = rng.choice(spots)
    new = rng.choice(_ACCENTS[word[i].lower()])
    if word[i].isupper():
        new = {"ß": "SS", "ÿ": "Y"}.get(new, new.upper())
    return word[:i] + new + word[i + 1:]


def _accent(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    k = rng.randrange(len(words))
    r = rng.random()
    if r < 0.5:
        words[k] = rng.choice(ACCENTED_WORDS)
    else:
        words[k] = _accent_word(words[k], rng)
    if rng.random() < 0.15:
        words[k] = words[k].upper()
    return " ".join(words)


def title_case(text: str) -> str:
    """Capitalise the first letter of each word (unlike ``str.title``, leaves ``You're`` alone)."""
    return " ".join(w[:1].upper() + w[1:] for w in text.split(" "))


def typography(text: str, rng: random.Random) -> str:
    """Randomly apply typographic conventions: curly quotes, dashes, ellipses, accents, case."""
    r = rng.random()
    if r < 0.35:
        text = _smart_quotes(text)
    elif r < 0.4:
        text = _latex_quotes(text)
    if "--" in text:
        text = text.replace("--", rng.choice(("—", "—", " — ", "–", "--", "-")))
    elif rng.random() < 0.04:
        words = text.split(" ")
        words.insert(rng.randint(0, len(words)), rng.choice(("—", "–", "-")))
        text = " ".join(words)
    if rng.random() < 0.15:
        text = re.sub(r"(\d)-(\d)", "\\1–\\2", text)
    if "..." in text and rng.random() < 0.5:
        text = text.replace("...", "…")
    elif rng.random() < 0.015:
        text = text.rstrip(".") + rng.choice(("…", "...", " . . ."))
    if rng.random() < 0.06:
        text = _accent(text, rng)
    r = rng.random()
    if r < 0.03:
        text = text.upper()
    elif r < 0.05:
        text = title_case(text)
    if rng.random() < 0.015:
        text = rng.choice(("• ", "· ", "§ ", "¶ ", "* ", "- ", "† ")) + text
    return text


def _fit(text: str) -> str:
    text = "".join(ch for ch in text if ch in _CHARSET_SET)
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > MAX_LEN:
        cut = text.rfind(" ", 0, MAX_LEN + 1)
        text = text[: cut if cut > 0 else MAX_LEN].rstrip()
    return text


def sample_text(rng: random.Random) -> str:
    """One text line (1..90 characters of :data:`CHARSET`), a pure function of ``rng``'s state."""
    corpus = load_corpus()
    gens, weights = zip(*_GENERATORS, strict=True)
    for _ in range(20):
        gen = rng.choices(gens, weights)[0]
        text = gen(rng, corpus)
        if gen is not receipt_line:
            text = typography(text, rng)
        text = _fit(text)
        if text:
            return text
    return rng.choice(corpus.words)


class TextSource:
    """A reproducible stream of text lines: ``TextSource(seed).sample()``."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        load_corpus()

    def sample(self) -> str:
        return sample_text(self.rng)

    def __iter__(self):
        while True:
            yield self.sample()
