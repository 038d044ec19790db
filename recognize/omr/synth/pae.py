"""Random, musically plausible incipits in Plaine & Easie Code (PAE), the way PrIMuS was made.

PrIMuS rendered real RISM incipits with Verovio; we draw incipits with a similar distribution of clefs, keys,
metres, rhythms and melodic motion, and write them in the PAE form Verovio's ``loadData`` accepts::

    @clef:G-2
    @keysig:xFC
    @timesig:3/4
    @data:=4/'4-8-{''8xCD}/4.E8F(4G)+/...

Every pitch, duration and rest stays inside the published PrIMuS semantic vocabulary (pitches A1..F#6 with the
spellings listed in ``_SPELLINGS``, no tuplets, trills or chords). Labels are never derived from this string: the
renderer hands Verovio's MEI to the label code.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, fields
from fractions import Fraction

STEPS = "CDEFGAB"
_SHARP_ORDER = "FCGDAEB"
_FLAT_ORDER = "BEADGCF"

# (step, alter) -> octaves allowed by the PrIMuS vocabulary. Naturals run A1..F6.
_SPELLINGS: dict[tuple[str, int], range] = {
    ("A", 1): range(2, 6), ("B", 1): range(2, 6), ("C", 1): range(2, 7), ("D", 1): range(2, 7),
    ("E", 1): range(2, 7), ("F", 1): range(2, 7), ("G", 1): range(2, 6),
    ("A", -1): range(2, 6), ("B", -1): range(1, 6), ("C", -1): range(3, 7), ("D", -1): range(3, 7),
    ("E", -1): range(2, 7), ("F", -1): range(3, 6), ("G", -1): range(2, 6),
}  # fmt: skip
_LOWEST = 1 * 7 + 5  # A1 as a diatonic index (octave * 7 + step)
_HIGHEST = 6 * 7 + 3  # F6

# clef -> (weight, diatonic index of the bottom staff line)
CLEFS: dict[str, tuple[float, int]] = {
    "G-2": (0.62, 4 * 7 + 2),  # E4
    "G-1": (0.004, 4 * 7 + 4),  # G4
    "C-1": (0.09, 4 * 7 + 0),  # C4
    "C-2": (0.015, 3 * 7 + 5),  # A3
    "C-3": (0.06, 3 * 7 + 3),  # F3
    "C-4": (0.06, 3 * 7 + 1),  # D3
    "C-5": (0.006, 2 * 7 + 6),  # B2
    "F-3": (0.008, 2 * 7 + 6),  # B2
    "F-4": (0.11, 2 * 7 + 4),  # G2
    "F-5": (0.003, 2 * 7 + 2),  # E2
}

# signed number of sharps (+) / flats (-) -> weight; major keys only (no Cb major in PrIMuS)
KEYS: dict[int, float] = {
    0: 0.24, 1: 0.13, -1: 0.12, 2: 0.10, -2: 0.09, 3: 0.06, -3: 0.07,
    4: 0.03, -4: 0.03, 5: 0.01, -5: 0.01, 6: 0.006, -6: 0.005, 7: 0.004,
}  # fmt: skip

# (PAE time signature, numerator, denominator, weight); "c" is common time, "c/" cut time
METERS: list[tuple[str, int, int, float]] = [
    ("c", 4, 4, 0.19), ("3/4", 3, 4, 0.18), ("2/4", 2, 4, 0.13), ("4/4", 4, 4, 0.06), ("c/", 2, 2, 0.08),
    ("6/8", 6, 8, 0.09), ("3/8", 3, 8, 0.07), ("2/2", 2, 2, 0.04), ("3/2", 3, 2, 0.05), ("6/4", 6, 4, 0.03),
    ("12/8", 12, 8, 0.025), ("9/8", 9, 8, 0.015), ("4/2", 4, 2, 0.006), ("2/1", 2, 1, 0.002),
    ("3/1", 3, 1, 0.002), ("9/4", 9, 4, 0.003), ("5/4", 5, 4, 0.002), ("12/16", 12, 16, 0.002),
    ("6/16", 6, 16, 0.002), ("2/8", 2, 8, 0.002), ("4/8", 4, 8, 0.002), ("12/4", 12, 4, 0.002),
    ("6/2", 6, 2, 0.001), ("1/4", 1, 4, 0.001),
]  # fmt: skip

# written durations PAE can express: value in whole notes -> code (dots appended)
_BASE_CODES: dict[Fraction, str] = {
    Fraction(4): "0", Fraction(2): "9", Fraction(1): "1", Fraction(1, 2): "2", Fraction(1, 4): "4",
    Fraction(1, 8): "8", Fraction(1, 16): "6", Fraction(1, 32): "3", Fraction(1, 64): "5",
}  # fmt: skip
_MIN_DUR = Fraction(1, 64)
# rest values found in the PrIMuS vocabulary (no breve rests, no dotted 32nds)
_REST_DURS = frozenset(
    Fraction(n, d)
    for n, d in [(1, 64), (1, 32), (1, 16), (3, 32), (1, 8), (3, 16), (7, 32), (1, 4), (3, 8), (7, 16), (1, 2),
                 (3, 4), (1, 1), (3, 2)]
)  # fmt: skip

# diatonic interval -> weight for the melodic random walk
_INTERVALS: dict[int, float] = {
    0: 0.10, 1: 0.28, -1: 0.30, 2: 0.08, -2: 0.08, 3: 0.04, -3: 0.04, 4: 0.035, -4: 0.03,
    5: 0.012, -5: 0.01, 7: 0.01, -7: 0.008,
}  # fmt: skip


def duration_code(dur: Fraction) -> str | None:
    """PAE duration code for a written duration (``"4."`` for a dotted quarter), None if not expressible."""
    for dots, factor in ((0, Fraction(1)), (1, Fraction(3, 2)), (2, Fraction(7, 4))):
        code = _BASE_CODES.get(dur / factor)
        if code is not None and dur / factor / (2**dots) >= _MIN_DUR:
            return code + "." * dots
    return None


def spelled(d: int, alter: int) -> str | None:
    """PrIMuS pitch name (``"F#4"``) of diatonic index ``d`` with ``alter``, None if outside the vocabulary."""
    octave, step = divmod(d, 7)
    letter = STEPS[step]
    if alter == 0:
        return f"{letter}{octave}" if _LOWEST <= d <= _HIGHEST else None
    octaves = _SPELLINGS.get((letter, alter))
    if octaves is None or octave not in octaves:
        return None
    return f"{letter}{'#' if alter > 0 else 'b'}{octave}"


@dataclass(frozen=True)
class Meter:
    pae: str
    num: int
    den: int

    @property
    def bar(self) -> Fraction:
        return Fraction(self.num, self.den)

    @property
    def compound(self) -> bool:
        return self.num % 3 == 0 and (self.num > 3 or self.den >= 8)

    @property
    def beat(self) -> Fraction:
        return Fraction(3, self.den) if self.compound else Fraction(1, self.den)


@dataclass(frozen=True)
class Emphasis:
    """How often rare symbols appear. The defaults are the generator's PrIMuS-like mix (same draws for
    the same rng); a training set can raise them where a model keeps failing: every multirest count is
    its own semantic token, and accidentals outside the key (naturals in flat keys) are rare."""

    multirest: float = 0.1   # share of incipits that open with a multirest
    chromatic: float = 1.0   # factor on each incipit's chance of a note outside the key

    def suffix(self) -> str:
        """A cache-folder suffix naming the values that differ from the defaults ("" for the defaults)."""
        return "".join(f"-{f.name}{getattr(self, f.name):g}" for f in fields(self)
                       if getattr(self, f.name) != f.default)

    @classmethod
    def from_options(cls, options: dict) -> Emphasis:
        """The knobs a data source's ``options`` set (other options are not the generator's)."""
        return cls(**{f.name: float(options[f.name]) for f in fields(cls) if f.name in options})


PRIMUS_LIKE = Emphasis()  # the default mix


@dataclass
class Style:
    """Per-incipit character: typical note value, how dotted, rest-, grace- and chromatic-prone it is."""

    unit: Fraction
    p_dot: float
    p_rest: float
    p_grace: float
    p_chromatic: float
    p_tie: float
    beam_span: Fraction | None  # None: beam by beat; 1/2: by half bar (2/4, 4/4); 0: no beams at all
    minor: bool


@dataclass
class Event:
    dur: Fraction
    rest: bool = False
    d: int = 0  # diatonic index (octave * 7 + step)
    alter: int = 0
    tie: bool = False  # tied to the next event
    fermata: bool = False
    grace: tuple[str, int, int] | None = None  # (PAE grace prefix "g" or "q8", diatonic index, alter)
    beam: str = ""  # "{" opens a beam before the note, "}" closes it after


@dataclass
class Bar:
    events: list[Event] = field(default_factory=list)
    complete: bool = True


# ----------------------------------------------------------------------------------------------------------------
# header


def _choose_clef(rng: random.Random) -> str:
    return rng.choices(list(CLEFS), weights=[w for w, _ in CLEFS.values()])[0]


def _choose_key(rng: random.Random) -> int:
    return rng.choices(list(KEYS), weights=list(KEYS.values()))[0]


def key_alters(fifths: int) -> dict[str, int]:
    """Step letter -> alteration implied by a key signature of ``fifths`` sharps (> 0) or flats (< 0)."""
    order, sign = (_SHARP_ORDER, 1) if fifths > 0 else (_FLAT_ORDER, -1)
    return {s: (sign if s in order[: abs(fifths)] else 0) for s in STEPS}


def keysig_pae(fifths: int) -> str:
    if fifths == 0:
        return ""
    return "x" + _SHARP_ORDER[:fifths] if fifths > 0 else "b" + _FLAT_ORDER[:-fifths]


def _choose_meter(rng: random.Random) -> Meter:
    pae, num, den, _ = rng.choices(METERS, weights=[m[3] for m in METERS])[0]
    return Meter(pae, num, den)


def _choose_style(rng: random.Random, meter: Meter, chromatic: float) -> Style:
    # typical note value relative to the beat: mostly the beat or half of it
    shift = rng.choices([1, 0, -1, -2], weights=[0.12, 0.45, 0.35, 0.08])[0]
    unit = meter.beat * Fraction(2) ** shift if not meter.compound else Fraction(1, meter.den) * Fraction(2) ** shift
    unit = min(max(unit, Fraction(1, 16)), Fraction(1))
    beam_span: Fraction | None = None
    r = rng.random()
    if r < 0.08:
        beam_span = Fraction(0)
    elif not meter.compound and meter.beat == Fraction(1, 4) and meter.num in (2, 4) and r < 0.40:
        beam_span = Fraction(1, 2)
    return Style(
        unit=unit,
        p_dot=rng.choice([0.02, 0.08, 0.15, 0.3]),
        p_rest=rng.choice([0.0, 0.02, 0.04, 0.08]),
        p_grace=rng.choice([0.0, 0.0, 0.02, 0.06]),
        p_chromatic=rng.choice([0.0, 0.02, 0.04, 0.08]) * chromatic,
        p_tie=rng.choice([0.0, 0.0, 0.02, 0.05]),
        beam_span=beam_span,
        minor=rng.random() < 0.3,
    )


# ----------------------------------------------------------------------------------------------------------------
# rhythm: recursive metrical subdivision


def _p_hold(length: Fraction, unit: Fraction) -> float:
    """Probability that a metrical unit is sung as one note: high at or below the style's unit, low above."""
    r = math.log2(length / unit)
    return 1.0 / (1.0 + math.exp(1.6 * (r - 0.3)))


def _split_simple(rng: random.Random, length: Fraction, unit: Fraction, p_dot: float) -> list[Fraction]:
    """Durations filling a binary unit (a beat of a simple metre, or any power-of-two part of one)."""
    if duration_code(length) and (length / 2 < _MIN_DUR or rng.random() < _p_hold(length, unit)):
        return [length]
    if length <= Fraction(1, 32) and rng.random() < 0.8:  # sixty-fourths are rare in RISM incipits
        return [length]
    half = length / 2
    if rng.random() < p_dot and half / 2 >= Fraction(1, 32):
        if rng.random() < 0.06 and half / 4 >= Fraction(1, 32):
            return [half * Fraction(7, 4), half / 4]
        return [half * Fraction(3, 2), half / 2]
    return _split_simple(rng, half, unit, p_dot) + _split_simple(rng, half, unit, p_dot)


def _split_compound(rng: random.Random, length: Fraction, unit: Fraction, p_dot: float) -> list[Fraction]:
    """Durations filling a ternary unit (a dotted beat of 6/8, 9/8, 12/8, 6/4, or a 3/8 bar)."""
    third = length / 3
    if rng.random() < _p_hold(length, unit):
        return [length]
    r = rng.random()
    if r < 0.35 and rng.random() < _p_hold(third * 2, unit):
        return [third * 2, third]
    if r < 0.35 + p_dot and third / 2 >= Fraction(1, 32):
        return [third * Fraction(3, 2), third / 2, third]
    if r < 0.40 + p_dot:
        return [third, third * 2]
    return [d for _ in range(3) for d in _split_simple(rng, third, unit, p_dot)]


def _beat_groups(rng: random.Random, beats: int) -> list[int]:
    """How a run of beats divides: halves for 2/4/8 beats, 3 -> 1+1+1, 2+1 or 1+2, others into 2s and 3s."""
    if beats & (beats - 1) == 0:
        return [beats // 2, beats // 2]
    if beats == 3:
        return rng.choices([[1, 1, 1], [2, 1], [1, 2]], weights=[0.5, 0.35, 0.15])[0]
    first = 3 if beats % 2 else 2
    return [first, beats - first]


def _split_beats(rng: random.Random, beats: int, beat: Fraction, compound: bool, unit: Fraction, p_dot: float
                 ) -> list[Fraction]:  # fmt: skip
    """Durations filling ``beats`` beats, merging beats into longer notes when the metre allows."""
    if beats == 1:
        split = _split_compound if compound else _split_simple
        return split(rng, beat, unit, p_dot)
    length = beat * beats
    if duration_code(length) and rng.random() < _p_hold(length, unit) * 0.8:
        return [length]
    return [d for g in _beat_groups(rng, beats) for d in _split_beats(rng, g, beat, compound, unit, p_dot)]


def bar_rhythm(rng: random.Random, meter: Meter, unit: Fraction, p_dot: float) -> list[Fraction]:
    """Durations exactly filling one bar, with ``unit`` the typical note value."""
    beats = meter.num // 3 if meter.compound else meter.num
    durs = _split_beats(rng, beats, meter.beat, meter.compound, unit, p_dot)
    assert sum(durs) == meter.bar, (durs, meter)
    return durs


# ----------------------------------------------------------------------------------------------------------------
# melody


@dataclass
class _Voice:
    """Random-walk state of the melody."""

    bottom: int  # bottom staff line
    low: int
    high: int
    centre: int
    alters: dict[str, int]
    tonic: int
    minor: bool
    d: int = 0
    last_interval: int = 0
    resolve: int = 0  # forced next interval after a chromatic note


def _make_voice(rng: random.Random, clef: str, fifths: int, minor: bool) -> _Voice:
    bottom = CLEFS[clef][1]
    low, high = max(bottom - 3, _LOWEST), min(bottom + 11, _HIGHEST)
    major_tonic = STEPS.index(_major_tonic(fifths))
    tonic = (major_tonic + 5) % 7 if minor else major_tonic
    voice = _Voice(bottom, low, high, bottom + 4 + rng.choice([-1, 0, 0, 1, 2]), key_alters(fifths), tonic, minor)
    chord = [tonic, (tonic + 2) % 7, (tonic + 4) % 7]
    starts = [d for d in range(bottom, bottom + 9) if d % 7 in chord and _pitch_ok(voice, d, _key_alter(voice, d))]
    voice.d = min(starts, key=lambda d: abs(d - voice.centre) + rng.random() * 4) if starts else bottom + 4
    return voice


def _major_tonic(fifths: int) -> str:
    """Letter of the major key's tonic (F# major -> "F")."""
    return "CGDAEBFC"[fifths] if fifths >= 0 else "CFBEADG"[-fifths]


def _key_alter(voice: _Voice, d: int) -> int:
    return voice.alters[STEPS[d % 7]]


def _pitch_ok(voice: _Voice, d: int, alter: int) -> bool:
    return voice.low <= d <= voice.high and spelled(d, alter) is not None


def _next_pitch(rng: random.Random, voice: _Voice, style: Style) -> tuple[int, int]:
    """Next (diatonic index, alter): mostly steps, some leaps, pulled toward the centre of the clef's range."""
    if voice.resolve and _pitch_ok(voice, voice.d + voice.resolve, _key_alter(voice, voice.d + voice.resolve)):
        interval = voice.resolve
    else:
        weights = []
        for iv, w in _INTERVALS.items():
            target = voice.d + iv
            if not _pitch_ok(voice, target, _key_alter(voice, target)):
                w = 0.0
            w *= math.exp(-0.5 * ((target - voice.centre) / 5.0) ** 2) ** 0.6
            if abs(voice.last_interval) >= 3 and iv * voice.last_interval < 0 and abs(iv) <= 2:
                w *= 2.5  # a leap is followed by a step back
            weights.append(w)
        if sum(weights) == 0:
            interval = 1 if voice.d < voice.centre else -1
        else:
            interval = rng.choices(list(_INTERVALS), weights=weights)[0]
    voice.resolve = 0
    d = voice.d + interval
    voice.d, voice.last_interval = d, interval
    key_alter = _key_alter(voice, d)
    alter = key_alter
    if voice.minor and d % 7 == (voice.tonic + 6) % 7 and rng.random() < 0.5:
        alter = key_alter + 1  # leading tone in minor
    elif rng.random() < style.p_chromatic:
        alter = key_alter + rng.choice([1, 1, -1])
    if alter != key_alter:
        if alter not in (-1, 0, 1) or spelled(d, alter) is None:
            alter = key_alter
        else:
            voice.resolve = 1 if alter > key_alter else -1
    return d, alter


# ----------------------------------------------------------------------------------------------------------------
# incipit assembly


def _make_bars(rng: random.Random, meter: Meter, style: Style, target_events: int, pickup: bool) -> list[Bar]:
    """Full bars until about ``target_events`` notes and barlines, then maybe a pickup and a cut-off last bar."""
    bars: list[Bar] = []
    total = 0
    while total < target_events or len(bars) < 2:
        bars.append(Bar([Event(d) for d in bar_rhythm(rng, meter, _bar_unit(rng, style), style.p_dot)]))
        total += len(bars[-1].events) + 1
    if pickup:  # the tail of a bar, at most half of it
        tail = _tail_from([Event(d) for d in bar_rhythm(rng, meter, _bar_unit(rng, style), style.p_dot)],
                          meter.bar / 2, rng)
        if tail:
            bars.insert(0, Bar(tail, complete=False))
    if rng.random() < 0.35:  # incipit cut off inside its last bar
        head = _head_upto(bars[-1].events, rng)
        if head:
            bars[-1] = Bar(head, complete=False)
    return bars


def _bar_unit(rng: random.Random, style: Style) -> Fraction:
    """The style's typical note value, halved or doubled in some bars; never below a sixteenth."""
    unit = style.unit * rng.choices([Fraction(1, 2), Fraction(1), Fraction(2)], weights=[0.15, 0.7, 0.15])[0]
    return max(unit, Fraction(1, 16))


def _tail_from(events: list[Event], max_len: Fraction, rng: random.Random) -> list[Event]:
    """A random tail of a bar no longer than ``max_len`` (a pickup), or [] if there is none."""
    starts, pos = [], Fraction(0)
    for i, e in enumerate(events):
        if 0 < pos and sum(x.dur for x in events[i:]) <= max_len:
            starts.append(i)
        pos += e.dur
    return events[rng.choice(starts):] if starts else []


def _head_upto(events: list[Event], rng: random.Random) -> list[Event]:
    """A random proper head of a bar (an incipit cut off mid-bar), or [] if the bar has one event."""
    if len(events) < 2:
        return []
    return events[: rng.randrange(1, len(events))]


def _place_rests(rng: random.Random, bars: list[Bar], style: Style, entry: bool) -> None:
    """Turn some events into rests; an incipit after a multirest (or by chance) opens with rests."""
    for b, bar in enumerate(bars):
        for i, e in enumerate(bar.events):
            p = style.p_rest if e.dur >= Fraction(1, 8) else style.p_rest / 4  # short rests are rare
            if b == 0 and entry and all(x.rest for x in bar.events[:i]) and i < len(bar.events) - 1:
                p = 0.75
            if e.dur in _REST_DURS and rng.random() < p:
                e.rest = True
    last = bars[-1].events
    if all(e.rest for e in last):
        last[-1].rest = False


def _place_pitches(rng: random.Random, bars: list[Bar], voice: _Voice, style: Style) -> None:
    """Walk the melody over the notes; a tied note repeats its predecessor's pitch."""
    events = [e for bar in bars for e in bar.events]
    first = True
    prev: Event | None = None
    for e in events:
        if e.rest:
            prev = None
            continue
        if first:
            e.d, e.alter, first = voice.d, _key_alter(voice, voice.d), False
        elif prev is not None and prev.tie:
            e.d, e.alter = prev.d, prev.alter
        else:
            e.d, e.alter = _next_pitch(rng, voice, style)
        e.tie = rng.random() < style.p_tie and not voice.resolve
        prev = e
    _fix_ties(bars, voice)


def _fix_ties(bars: list[Bar], voice: _Voice) -> None:
    """Drop ties into rests, at the very end, and chromatic ties across a barline (accidental would reappear)."""
    flat = [(b, e) for b, bar in enumerate(bars) for e in bar.events]
    for (b, e), (b2, nxt) in zip(flat, flat[1:] + [(None, None)]):
        if not e.tie:
            continue
        if nxt is None or nxt.rest or e.rest:
            e.tie = False
        elif b2 != b and e.alter != _key_alter(voice, e.d):
            e.tie = False
        elif (nxt.d, nxt.alter) != (e.d, e.alter):
            e.tie = False


def _place_beams(bars: list[Bar], meter: Meter, style: Style) -> None:
    """Beam runs of eighths and shorter inside one beat (or half bar), like engravers do."""
    if style.beam_span == 0:
        return
    if meter.compound:
        span = meter.beat
    elif meter.beat >= Fraction(1, 2):
        span = Fraction(1, 4)
    else:
        span = style.beam_span or meter.beat
    for b, bar in enumerate(bars):
        pos = meter.bar - sum(e.dur for e in bar.events) if b == 0 and not bar.complete else Fraction(0)
        run: list[Event] = []
        group = -1
        for e in bar.events:
            g = pos // span
            beamable = not e.rest and e.dur < Fraction(1, 4) and math.ceil((pos + e.dur) / span) - 1 == g
            if run and (not beamable or g != group):
                _close_run(run)
                run = []
            if beamable:
                run.append(e)
                group = g
            pos += e.dur
        _close_run(run)


def _close_run(run: list[Event]) -> None:
    if len(run) >= 2:
        run[0].beam, run[-1].beam = "{", "}"


def _place_graces(rng: random.Random, bars: list[Bar], voice: _Voice, style: Style) -> None:
    """Acciaccaturas (``g``) and appoggiaturas (``q`` + duration) a step above or below, outside beams."""
    prev_tied = False
    for bar in bars:
        state: dict[int, int] = {}
        for e in bar.events:
            ok = not e.rest and not prev_tied and e.beam != "}" and not _inside_beam(bar, e)
            if ok and rng.random() < style.p_grace:
                gd = e.d + rng.choice([1, 1, 1, -1])
                galter = state.get(gd, _key_alter(voice, gd))  # no accidental needed on the grace note
                near_staff = voice.bottom - 1 <= gd <= voice.bottom + 9
                if near_staff and spelled(gd, galter) is not None:
                    kind = "g" if rng.random() < 0.55 else "q" + rng.choice(["8", "8", "6", "6", "3", "4"])
                    e.grace = (kind, gd, galter)
            if not e.rest:
                state[e.d] = e.alter
            prev_tied = e.tie and not e.rest


def _inside_beam(bar: Bar, e: Event) -> bool:
    inside = False
    for x in bar.events:
        if x is e:
            return inside and x.beam != "{"
        if x.beam == "{":
            inside = True
        elif x.beam == "}":
            inside = False
    return False


def _place_fermata(rng: random.Random, bars: list[Bar]) -> None:
    """In one incipit out of ten, a fermata on a note or rest of a quarter or longer."""
    if rng.random() >= 0.1:
        return
    events = [e for bar in bars for e in bar.events if e.dur >= Fraction(1, 4) and not e.grace]
    if not events:
        return
    # mostly on the last long note, sometimes on the last note of an inner bar
    candidates = [bar.events[-1] for bar in bars if bar.events[-1] in events]
    e = candidates[-1] if candidates and rng.random() < 0.7 else rng.choice(events)
    e.fermata = True


# ----------------------------------------------------------------------------------------------------------------
# PAE writing


@dataclass
class _Writer:
    alters: dict[str, int]
    octave: int | None = None
    dur: str | None = None
    state: dict[int, int] = field(default_factory=dict)  # accidentals in force in this bar, per diatonic index

    def octave_mark(self, d: int) -> str:
        octave = d // 7
        if octave == self.octave:
            return ""
        self.octave = octave
        return "'" * (octave - 3) if octave >= 4 else "," * (4 - octave)

    def duration(self, dur: Fraction) -> str:
        code = duration_code(dur)
        assert code is not None, dur
        if code == self.dur:
            return ""
        self.dur = code
        return code

    def accidental(self, d: int, alter: int) -> str:
        current = self.state.get(d, self.alters[STEPS[d % 7]])
        if alter == current:
            return ""
        self.state[d] = alter
        return {1: "x", -1: "b", 0: "n"}[alter]

    def event(self, e: Event) -> str:
        parts = []
        if e.grace:  # before the beam, so that the grace note is not a member of it
            kind, gd, galter = e.grace
            parts.append(self.octave_mark(gd) + kind + self.accidental(gd, galter) + STEPS[gd % 7])
            self.dur = None
            self.octave = None
        if e.beam == "{":
            parts.append("{")
        if e.rest:
            body = self.duration(e.dur) + "-"
        else:
            body = self.octave_mark(e.d) + self.duration(e.dur) + self.accidental(e.d, e.alter) + STEPS[e.d % 7]
        parts.append(f"({body})" if e.fermata else body)
        if e.tie:
            parts.append("+")
        if e.beam == "}":
            parts.append("}")
        return "".join(parts)


def _write(clef: str, fifths: int, meter: Meter, multirest: int, bars: list[Bar], final: str) -> str:
    w = _Writer(key_alters(fifths))
    data = [f"={multirest}/"] if multirest else []
    for i, bar in enumerate(bars):
        w.state = {}
        data.append("".join(w.event(e) for e in bar.events))
        if i < len(bars) - 1:
            data.append("/")
    data.append(final)
    return f"@clef:{clef}\n@keysig:{keysig_pae(fifths)}\n@timesig:{meter.pae}\n@data:{''.join(data)}"


def random_incipit(rng: random.Random, emphasis: Emphasis = PRIMUS_LIKE) -> str:
    """A random PrIMuS-like incipit as Verovio-loadable PAE (``@clef:..\\n@keysig:..\\n@timesig:..\\n@data:..``)."""
    clef = _choose_clef(rng)
    fifths = _choose_key(rng)
    meter = _choose_meter(rng)
    style = _choose_style(rng, meter, emphasis.chromatic)
    multirest = 0
    if rng.random() < emphasis.multirest:
        multirest = min(2 + int(rng.expovariate(1 / 9)), 60)
    target = round(rng.triangular(6, 36, 12))
    bars = _make_bars(rng, meter, style, target, pickup=not multirest and rng.random() < 0.3)
    _place_rests(rng, bars, style, entry=bool(multirest) or rng.random() < 0.1)
    voice = _make_voice(rng, clef, fifths, style.minor)
    _place_pitches(rng, bars, voice, style)
    _place_beams(bars, meter, style)
    _place_graces(rng, bars, voice, style)
    _place_fermata(rng, bars)
    final = "" if not bars[-1].complete else rng.choices(["/", "//", ""], weights=[0.45, 0.4, 0.15])[0]
    return _write(clef, fifths, meter, multirest, bars, final)
