"""Read Praat TextGrid files (long and short text formats) without a third-party package.

Both formats carry the same sequence of *values*; the long format only adds
keys around them::

    long:  xmin = 0 / xmax = 2.3 / tiers? <exists> / size = 2 / item [1]: / class = "IntervalTier" ...
    short: 0 / 2.3 / <exists> / 2 / "IntervalTier" ...

So, as Praat itself does, a tokenizer keeps only the values -- numbers,
double-quoted strings (``""`` is an escaped quote) and ``<flags>`` -- and skips
keys (``xmin =``, ``intervals [3]:``, ``tiers?``) and ``!`` comments; a small
reader then takes the values in the order the format defines and checks them
(types, counts, ``xmin <= xmax``, nothing left over). Every error is a
DataError naming the file and line of the offending value.

Encoding: UTF-8 (a BOM is allowed), or UTF-16 with a BOM (Praat writes that for
non-ASCII text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, List, Optional, Tuple, Union

from espnet_l2dual.errors import DataError

PathLike = Union[str, Path]


@dataclass(frozen=True)
class Interval:
    xmin: float
    xmax: float
    text: str
    line: int  # line of the text value, for error messages


@dataclass(frozen=True)
class Point:
    time: float
    mark: str
    line: int


@dataclass
class Tier:
    """An IntervalTier (``intervals``) or a TextTier/PointTier (``points``)."""

    kind: str  # "IntervalTier" or "TextTier"
    name: str
    xmin: float
    xmax: float
    line: int
    intervals: List[Interval] = field(default_factory=list)
    points: List[Point] = field(default_factory=list)


@dataclass
class TextGrid:
    path: Optional[str]
    xmin: float
    xmax: float
    tiers: List[Tier]

    def tier(self, name: str) -> Tier:
        """The tier called ``name`` (case-insensitive); a DataError if there is none."""
        for t in self.tiers:
            if t.name.lower() == name.lower():
                return t
        names = ", ".join(repr(t.name) for t in self.tiers)
        raise DataError(self.path, None, f"no tier named '{name}' (tiers: {names})")


@dataclass(frozen=True)
class Token:
    kind: str  # "number" | "string" | "flag"
    value: str
    line: int
    column: int


def _decode(data: bytes, path: Optional[str]) -> str:
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(path, None, f"not UTF-8 or UTF-16 with BOM ({e.reason} at byte {e.start})") from None


def tokenize(text: str, path: Optional[str] = None) -> Iterator[Token]:
    """Yield the values of a TextGrid text; keys, ``[index]`` and comments are skipped."""
    i, n, line, line_start = 0, len(text), 1, 0

    def err(reason: str) -> DataError:
        return DataError(path, line, reason, column=i - line_start + 1)

    while i < n:
        ch = text[i]
        if ch == "\n":
            line, line_start, i = line + 1, i + 1, i + 1
        elif ch.isspace() or ch in "=:?":
            i += 1
        elif ch == "!":  # comment to the end of the line
            while i < n and text[i] != "\n":
                i += 1
        elif ch == '"':
            start_line, start_col = line, i - line_start + 1
            j, parts = i + 1, []
            while True:
                k = text.find('"', j)
                if k < 0:
                    raise err("unterminated string")
                parts.append(text[j:k])
                if k + 1 < n and text[k + 1] == '"':  # "" is an escaped quote
                    parts.append('"')
                    j = k + 2
                    continue
                break
            chunk = text[i : k + 1]
            if "\n" in chunk:  # strings may span lines
                line += chunk.count("\n")
                line_start = i + chunk.rindex("\n") + 1
            yield Token("string", "".join(parts), start_line, start_col)
            i = k + 1
        elif ch == "<":
            k = text.find(">", i)
            if k < 0 or "\n" in text[i:k]:
                raise err("unterminated '<flag>'")
            yield Token("flag", text[i + 1 : k], line, i - line_start + 1)
            i = k + 1
        elif ch == "[":
            k = text.find("]", i)
            if k < 0 or "\n" in text[i:k]:
                raise err("unterminated '[index]'")
            i = k + 1
        elif ch.isdigit() or ch in "+-.":
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] in "+-."):
                j += 1
            word = text[i:j]
            try:
                float(word)
            except ValueError:
                raise err(f"bad number '{word}'") from None
            yield Token("number", word, line, i - line_start + 1)
            i = j
        elif ch.isalpha() or ch == "_":  # a key such as xmin, intervals, tiers
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            i = j
        else:
            raise err(f"unexpected character {ch!r}")


class _Reader:
    """Takes typed values off the token stream, failing at the first wrong one."""

    def __init__(self, tokens: Iterator[Token], path: Optional[str]) -> None:
        self.tokens = tokens
        self.path = path
        self.last_line = 1

    def next_token(self, what: str) -> Token:
        tok = next(self.tokens, None)
        if tok is None:
            raise DataError(self.path, self.last_line, f"file ends early: expected {what}")
        self.last_line = tok.line
        return tok

    def _expect(self, kind: str, what: str) -> Token:
        tok = self.next_token(what)
        if tok.kind != kind:
            raise DataError(self.path, tok.line, f"expected {what}, found {tok.kind} '{tok.value}'", tok.column)
        return tok

    def string(self, what: str) -> Token:
        return self._expect("string", what)

    def number(self, what: str) -> float:
        return float(self._expect("number", what).value)

    def count(self, what: str) -> int:
        tok = self._expect("number", what)
        if not tok.value.isdigit():
            raise DataError(self.path, tok.line, f"expected {what} (a count), found '{tok.value}'", tok.column)
        return int(tok.value)

    def span(self, what: str) -> Tuple[float, float, int]:
        tok = self._expect("number", f"{what} xmin")
        xmin = float(tok.value)
        xmax = self.number(f"{what} xmax")
        if xmax < xmin:
            raise DataError(self.path, self.last_line, f"{what}: xmax {xmax:g} < xmin {xmin:g}")
        return xmin, xmax, tok.line

    def end(self) -> None:
        tok = next(self.tokens, None)
        if tok is not None:
            raise DataError(self.path, tok.line, f"unexpected {tok.kind} '{tok.value}' after the last tier", tok.column)


def _read_tier(r: _Reader, number: int) -> Tier:
    kind_tok = r.string(f"tier {number} class")
    kind = kind_tok.value
    if kind not in ("IntervalTier", "TextTier", "PointTier"):
        raise DataError(r.path, kind_tok.line, f"tier {number}: unknown class '{kind}'", kind_tok.column)
    name = r.string(f"tier {number} name").value
    xmin, xmax, _ = r.span(f"tier '{name}'")
    tier = Tier(kind, name, xmin, xmax, kind_tok.line)
    size = r.count(f"tier '{name}' size")
    for k in range(1, size + 1):
        if kind == "IntervalTier":
            a, b, _ = r.span(f"tier '{name}' interval {k}")
            text = r.string(f"tier '{name}' interval {k} text")
            tier.intervals.append(Interval(a, b, text.value, text.line))
        else:
            t = r.number(f"tier '{name}' point {k} time")
            mark = r.string(f"tier '{name}' point {k} mark")
            tier.points.append(Point(t, mark.value, mark.line))
    return tier


def parse_textgrid(text: str, path: Optional[PathLike] = None) -> TextGrid:
    """Parse TextGrid ``text`` (long or short format); ``path`` only labels errors."""
    name = str(path) if path is not None else None
    r = _Reader(tokenize(text, name), name)
    file_type = r.string("'File type' string")
    if file_type.value != "ooTextFile":
        raise DataError(name, file_type.line, f"not a Praat text file (File type '{file_type.value}')")
    obj = r.string("'Object class' string")
    if obj.value not in ("TextGrid", "TextGrid 1"):
        raise DataError(name, obj.line, f"object class '{obj.value}' is not a TextGrid")
    xmin, xmax, _ = r.span("TextGrid")
    flag = r.next_token("'<exists>' or '<absent>'")
    if flag.kind != "flag" or flag.value not in ("exists", "absent"):
        raise DataError(name, flag.line, f"expected <exists> or <absent>, found '{flag.value}'", flag.column)
    tiers: List[Tier] = []
    if flag.value == "exists":
        size = r.count("number of tiers")
        tiers = [_read_tier(r, k) for k in range(1, size + 1)]
    r.end()
    return TextGrid(name, xmin, xmax, tiers)


def read_textgrid(path: PathLike) -> TextGrid:
    """Read and parse the TextGrid file ``path``."""
    data = Path(path).read_bytes()
    return parse_textgrid(_decode(data, str(path)), path)
