"""A number as a spreadsheet shows it: the cell's number format applied to its stored value.

Only cells whose value is not text come here (a number typed into a text field before the
input cells were text-formatted, a pasted value), so this is never on the common path.
The value is taken from the cell's raw <v> text as a Decimal, never through a float, so a
long integer keeps every digit. Dates are written as ISO 8601 whatever the date format,
because "03/01/25" means different days in different countries; a time is shown as its
format shows it in Excel (en-US): "h:mm AM/PM" shows 0.3541666 as "8:30 AM".

What is supported: General, fixed decimals, thousands separators, leading zeros
("00000"), percent, scientific notation, literal text and currency symbols, sections for
negative numbers and zero, fractions ("# ?/?", "# ??/??", "# ?/8"), and date/time formats.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from fractions import Fraction

GENERAL = "General"

# Excel's built-in formats (ECMA-376 18.8.30), the ones a file may use without defining.
BUILTIN = {
    0: GENERAL, 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00",
    5: '"$"#,##0_);("$"#,##0)', 6: '"$"#,##0_);[Red]("$"#,##0)',
    7: '"$"#,##0.00_);("$"#,##0.00)', 8: '"$"#,##0.00_);[Red]("$"#,##0.00)',
    9: "0%", 10: "0.00%", 11: "0.00E+00", 12: "# ?/?", 13: "# ??/??",
    14: "mm-dd-yy", 15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy", 18: "h:mm AM/PM",
    19: "h:mm:ss AM/PM", 20: "h:mm", 21: "h:mm:ss", 22: "m/d/yy h:mm",
    37: "#,##0 ;(#,##0)", 38: "#,##0 ;[Red](#,##0)", 39: "#,##0.00;(#,##0.00)",
    40: "#,##0.00;[Red](#,##0.00)", 45: "mm:ss", 46: "[h]:mm:ss", 47: "mm:ss.0",
    48: "##0.0E+0", 49: "@",
}
# 47 is written "mmss.0" in ECMA-376, but Excel shows it as "mm:ss.0" (30:00.0).
# Locale-dependent date formats of East Asian versions of Excel.
BUILTIN.update({i: "yyyy-mm-dd" for i in (*range(27, 37), *range(50, 59))})

_MAX_SERIAL = 2_958_465  # 9999-12-31, the last date Excel shows
_SECTIONS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|;|[^"\\\[;]+', re.S)
_TOKEN = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.|E[+-]|AM/PM|A/P|general|.', re.S | re.I)
_DATE_LETTERS = set("yYdDhHsS")
_PLACEHOLDERS = set("0#?")


def format_code(num_fmt_id: int, custom: dict[int, str]) -> str:
    """The format code of a numFmtId: the file's own definition first, then Excel's."""
    return custom.get(num_fmt_id) or BUILTIN.get(num_fmt_id, GENERAL)


def shown(raw: str, code: str, date1904: bool = False) -> str:
    """`raw` (a cell's <v> text) as a spreadsheet shows it in format `code`."""
    try:
        value = Decimal(raw.strip())
    except (InvalidOperation, ValueError):
        return raw
    if not value.is_finite():
        return raw
    section, value, sign = _section(code or GENERAL, value)
    tokens = _TOKEN.findall(section)
    if _is_date(tokens):
        return _date_text(value if not sign else -value, tokens, date1904)
    if any(t.casefold() == "general" for t in tokens) or not any(
            t in _PLACEHOLDERS for t in tokens):
        literal = "".join(_literal(t) for t in tokens if t.casefold() != "general").strip()
        if "@" in section or not literal:
            return sign + general(value)
        if any(t.casefold() == "general" for t in tokens):
            return "".join(sign + general(value) if t.casefold() == "general" else _literal(t)
                           for t in tokens).strip()
        return literal  # a format that shows only text, such as "-" for zero
    slash = _fraction_slash(tokens)
    if slash is not None:
        return _fraction_text(value, tokens, slash, sign)
    return _number_text(value, tokens, sign)


def general(value: Decimal) -> str:
    """General format: integers with every digit, others to Excel's 15 significant digits."""
    if value == value.to_integral_value():
        return str(int(value))
    rounded = Decimal(f"{value:.15g}").normalize()  # 0.30000000000000004 shows as 0.3
    if -10 < rounded.adjusted() < 21:
        return f"{rounded:f}"
    mantissa = rounded.scaleb(-rounded.adjusted()).normalize()
    return f"{mantissa:f}E{rounded.adjusted():+03d}"


def _split_sections(code: str) -> list[str]:
    sections, current = [], []
    for piece in _SECTIONS.findall(code):
        if piece == ";":
            sections.append("".join(current))
            current = []
        else:
            current.append(piece)
    sections.append("".join(current))
    return sections


def _section(code: str, value: Decimal) -> tuple[str, Decimal, str]:
    """(the section that applies, the value it shows, "-" when no section shows the sign)."""
    sections = _split_sections(code)
    if value < 0 and len(sections) >= 2 and sections[1].strip():
        return sections[1], -value, ""
    if value == 0 and len(sections) >= 3 and sections[2].strip():
        return sections[2], value, ""
    if value < 0:
        return sections[0], -value, "-"
    return sections[0], value, ""


def _literal(token: str) -> str:
    """What a non-placeholder token shows."""
    if token.startswith('"'):
        return token[1:-1]
    if token.startswith("\\"):
        return token[1:]
    if token.startswith("["):  # a colour, a condition, or a currency like [$€-407]
        inner = token[1:-1]
        return inner[1:].split("-", 1)[0] if inner.startswith("$") else ""
    if token[:1] in ("_", "*"):  # padding and fill: space only
        return ""
    return token


def _is_date(tokens: list[str]) -> bool:
    for t in tokens:
        if t in _DATE_LETTERS or t.upper() in ("AM/PM", "A/P"):
            return True
        if t.startswith("[") and t[1:2].lower() in ("h", "m", "s") and t[-2:-1].lower() in (
                "h", "m", "s"):
            return True  # elapsed time: [h], [mm], [ss]
        if t in ("m", "M") and not any(x in _PLACEHOLDERS for x in tokens):
            return True
    return False


def _date_text(value: Decimal, tokens: list[str], date1904: bool) -> str:
    """A date as an ISO date; a time as the format shows it ("8:30 AM", "30:00.0").

    Only the day is rewritten to ISO 8601, because "03/01/25" means different days in
    different countries; a time means the same everywhere, so it keeps its own form.
    """
    if value < 0 or value > _MAX_SERIAL:
        return general(value)
    parts = _date_parts(tokens)
    kinds = [kind for kind, _ in parts]
    decimals = max((len(text) for kind, text in parts if kind == "."), default=0)
    # Excel rounds to the smallest unit shown (a second, or a tenth of one with "ss.0"),
    # then shows each unit cut down, never rounded: 8:30:59 with "h:mm" shows 8:30.
    total = int((value * 86400 * 10**decimals).to_integral_value(ROUND_HALF_UP))
    seconds, fraction = divmod(total, 10**decimals)
    clock = _Clock(seconds, f"{fraction:0{decimals}d}" if decimals else "",
                   twelve="ampm" in kinds)
    timed = [i for i, kind in enumerate(kinds) if kind in _TIME_KINDS]
    dated = any(kind in ("y", "month", "d") for kind in kinds)
    if not dated:
        return "".join(clock.show(kind, text) for kind, text in parts).strip()
    day = _day(seconds // 86400, date1904)
    if not timed:
        return day
    shown_time = "".join(clock.show(kind, text) for kind, text in parts[timed[0]:timed[-1] + 1])
    return f"{day} {shown_time}"


_TIME_KINDS = frozenset(("h", "minute", "s", "[h]", "[m]", "[s]", "ampm", "."))


def _date_parts(tokens: list[str]) -> list[tuple[str, str]]:
    """The format as (kind, text) parts: a run of one date letter ("h", "hh"), an elapsed
    unit ("[h]"), "ampm", "." with the decimals of a second, or literal text ("lit")."""
    parts: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        letter = token.lower()
        if letter in ("y", "m", "d", "h", "s"):
            run = i
            while run < len(tokens) and tokens[run].lower() == letter:
                run += 1
            parts.append((letter, letter * (run - i)))
            i = run
            continue
        if token.startswith("[") and token[1:2].lower() in ("h", "m", "s"):
            parts.append((f"[{token[1].lower()}]", token[1:-1].lower()))
        elif token.upper() in ("AM/PM", "A/P"):
            parts.append(("ampm", token))
        elif token == "." and parts and parts[-1][0] == "s" and tokens[i + 1:i + 2] == ["0"]:
            run = i + 1
            while run < len(tokens) and tokens[run] == "0" and run - i <= 3:
                run += 1
            parts.append((".", "0" * (run - i - 1)))
            i = run
            continue
        else:
            parts.append(("lit", _literal(token)))
        i += 1
    return [(_month_or_minute(parts, i) if kind == "m" else kind, text)
            for i, (kind, text) in enumerate(parts)]


def _month_or_minute(parts: list[tuple[str, str]], at: int) -> str:
    """An "m" is minutes right after hours or right before seconds, as in Excel; else a month."""
    before = next((kind for kind, _ in reversed(parts[:at]) if kind != "lit"), "")
    after = next((kind for kind, _ in parts[at + 1:] if kind != "lit"), "")
    return "minute" if before in ("h", "[h]") or after in ("s", "[s]") else "month"


class _Clock:
    """The units of a time of day (and elapsed totals) as a format shows them."""

    def __init__(self, seconds: int, fraction: str, twelve: bool):
        self.total = seconds
        self.hour, rest = divmod(seconds % 86400, 3600)
        self.minute, self.second = divmod(rest, 60)
        self.fraction = fraction
        self.twelve = twelve  # AM/PM in the format: a 12-hour clock

    def show(self, kind: str, text: str) -> str:
        width = min(len(text), 2)
        if kind == "h":
            hour = (self.hour % 12 or 12) if self.twelve else self.hour
            return f"{hour:0{width}d}"
        if kind == "minute":
            return f"{self.minute:0{width}d}"
        if kind == "s":
            return f"{self.second:0{width}d}"
        if kind in ("[h]", "[m]", "[s]"):
            unit = {"[h]": 3600, "[m]": 60, "[s]": 1}[kind]
            return f"{self.total // unit:0{len(text)}d}"
        if kind == "ampm":  # "AM/PM" shows "AM" or "PM", "a/p" shows "a" or "p": as written
            morning, _, evening = text.partition("/")
            return morning if self.hour < 12 else evening
        if kind == ".":
            return "." + self.fraction[:len(text)]
        if kind == "lit":
            return text
        return ""  # a year, month or day inside a time: shown by the ISO date instead


def _day(serial: int, date1904: bool) -> str:
    if date1904:
        return (dt.date(1904, 1, 1) + dt.timedelta(days=serial)).isoformat()
    if serial == 60:  # Excel's 29 February 1900, a day that never was (Lotus 1-2-3's bug)
        return "1900-02-29"
    if serial == 0:
        return "1900-01-00"  # what Excel shows for day 0
    base = dt.date(1899, 12, 30) if serial > 60 else dt.date(1899, 12, 31)
    return (base + dt.timedelta(days=serial)).isoformat()


def _number_text(value: Decimal, tokens: list[str], sign: str) -> str:
    places = [i for i, t in enumerate(tokens) if t in _PLACEHOLDERS or t == "."]
    first, last = places[0], places[-1]
    pattern = tokens[first:last + 1]
    prefix = "".join(_literal(t) for t in tokens[:first])
    suffix_tokens = tokens[last + 1:]
    # Commas right after the last digit scale by a thousand each ("#,##0," shows thousands).
    while suffix_tokens and suffix_tokens[0] == ",":
        value /= 1000
        suffix_tokens = suffix_tokens[1:]
    suffix = "".join(_literal(t) for t in suffix_tokens)
    value *= Decimal(100) ** sum(1 for t in tokens if t == "%")
    exponent_at = next((i for i, t in enumerate(pattern) if t.upper() in ("E+", "E-")), None)
    if exponent_at is not None:
        body = _scientific(value, pattern, exponent_at)
    else:
        body = _fixed(value, pattern)
    return (sign + prefix + body + suffix).strip() if body else (prefix + suffix).strip()


def _fixed(value: Decimal, pattern: list[str]) -> str:
    point = pattern.index(".") if "." in pattern else len(pattern)
    int_part = pattern[:point]
    frac_part = [t for t in pattern[point + 1:] if t in _PLACEHOLDERS]
    grouping = "," in int_part
    most = len(frac_part)
    with localcontext() as exact:  # Excel's numbers reach 1.8E+308: every digit kept
        exact.prec = 700
        rounded = value.quantize(Decimal(1).scaleb(-most), ROUND_HALF_UP)
    whole, _, frac = f"{rounded:f}".partition(".")
    frac = frac.ljust(most, "0")
    least = _required(frac_part)
    while len(frac) > least and frac.endswith("0"):  # "#" decimals show no trailing zero
        frac = frac[:-1]
    whole = _fill_integer(whole, int_part, grouping)
    return whole + ("." + frac if "." in pattern and (frac or point < len(pattern)) else "")


def _required(frac_part: list[str]) -> int:
    """Decimals always shown: up to the last "0" placeholder."""
    zeros = [i for i, t in enumerate(frac_part) if t == "0"]
    return zeros[-1] + 1 if zeros else 0


def _fill_integer(digits: str, pattern: list[str], grouping: bool) -> str:
    """The integer digits laid into the placeholders, right to left, as Excel does."""
    digits = digits.lstrip("0")
    holders = [t for t in pattern if t in _PLACEHOLDERS]
    zeros = len(holders) - next((i for i, t in enumerate(holders) if t == "0"), len(holders))
    digits = digits.rjust(zeros, "0")
    if grouping:
        return f"{int(digits):,}" if digits else ""
    out: list[str] = []
    remaining = digits
    for token in reversed([t for t in pattern if t != ","]):
        if token in _PLACEHOLDERS:
            if remaining:
                out.append(remaining[-1])
                remaining = remaining[:-1]
            elif token == "?":
                out.append(" ")
        else:
            out.append(_literal(token))
    return remaining + "".join(reversed(out))


def _fraction_slash(tokens: list[str]) -> int | None:
    """Where the "/" of a fraction is ("# ?/?", "?/8"): digits or placeholders either side."""
    for i in range(1, len(tokens) - 1):
        if tokens[i] == "/" and tokens[i - 1] in _PLACEHOLDERS and (
                tokens[i + 1] in _PLACEHOLDERS or tokens[i + 1] in "123456789"):
            return i
    return None


def _fraction_text(value: Decimal, tokens: list[str], slash: int, sign: str) -> str:
    """A fraction as Excel shows it: "# ?/?" shows 1.5 as "1 1/2", "# ?/8" as "1 4/8".

    The fraction is the closest one whose denominator has at most as many digits as the
    format's denominator placeholders (9 for "?", 99 for "??"), or the format's own
    denominator. The "?" padding (a digit-wide space in the cell) is not kept.
    """
    start = slash - 1
    while start > 0 and tokens[start - 1] in _PLACEHOLDERS:
        start -= 1
    end = slash + 1
    while end < len(tokens) and (tokens[end] in _PLACEHOLDERS or tokens[end].isdigit()):
        end += 1
    below = tokens[slash + 1:end]
    holders = [i for i in range(start) if tokens[i] in _PLACEHOLDERS]
    exact = Fraction(value)
    whole = int(exact) if holders else 0
    rest = exact - whole
    if below[0] in _PLACEHOLDERS:
        near = rest.limit_denominator(10 ** len(below) - 1)
        top, bottom = near.numerator, near.denominator
    else:  # a fixed denominator: not reduced, "2/8" stays "2/8"
        bottom = int("".join(t for t in below if t.isdigit()))
        top = int((rest * bottom + Fraction(1, 2)) // 1)
    if holders and top == bottom:  # 0.99 is closer to 1 than to 8/9
        whole, top = whole + 1, 0
    prefix = "".join(_literal(t) for t in tokens[:holders[0] if holders else start])
    suffix = "".join(_literal(t) for t in tokens[end:])
    body = f"{top}/{bottom}"
    if holders:
        pattern = tokens[holders[0]:holders[-1] + 1]
        number = _fill_integer(str(whole), pattern, "," in pattern)
        between = "".join(_literal(t) for t in tokens[holders[-1] + 1:start])
        if top == 0:
            body = number or "0"  # Excel shows a whole number with the fraction left blank
        elif number:
            body = number + between + body
    return (sign + prefix + body + suffix).strip()


def _scientific(value: Decimal, pattern: list[str], at: int) -> str:
    mantissa_pattern = pattern[:at]
    point = mantissa_pattern.index(".") if "." in mantissa_pattern else len(mantissa_pattern)
    decimals = sum(1 for t in mantissa_pattern[point + 1:] if t in _PLACEHOLDERS)
    exp_digits = max(1, sum(1 for t in pattern[at + 1:] if t in _PLACEHOLDERS))
    if value == 0:
        exponent = 0
        mantissa = Decimal(0)
    else:
        exponent = value.adjusted()
        mantissa = value.scaleb(-exponent)
    mantissa = mantissa.quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    if mantissa >= 10:  # 9.99 rounded up to 10.0
        exponent += 1
        mantissa = (mantissa / 10).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    sign = "-" if exponent < 0 else ("+" if pattern[at].endswith("+") else "")
    return f"{mantissa:f}E{sign}{abs(exponent):0{exp_digits}d}"
