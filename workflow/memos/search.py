"""Finding memos: the filters a person may search by, applied to what they may open.

Words of the subject (LIKE, or ILIKE for a word with Latin letters: the trigram index
``ix_memo_subject_trgm`` on PostgreSQL), the document number in Thai or Arabic digits
(``ix_memo_number_trgm``, and ``ix_memo_number_grams`` for one or two characters), a date range,
the state, the drafter and the urgency. The caller scopes the query to the
reader's memos first; these filters only narrow it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import Text, bindparam, func, or_
from sqlalchemy.dialects import postgresql
from sqlmodel import col, select

from .. import thai
from ..errors import Invalid
from ..models import Memo, Urgency, User

TEXT_MAX = 200
STATES = ("draft", "pending", "returned", "approved", "rejected", "withdrawn")


@dataclass(frozen=True)
class MemoSearch:
    """What to look for; empty fields do not narrow."""

    q: str = ""
    number: str = ""
    date_from: date | None = None
    date_to: date | None = None
    state: str = ""
    drafter: str = ""
    urgency: str = ""

    @property
    def is_empty(self) -> bool:
        return not any(vars(self).values())

    def checked(self) -> MemoSearch:
        """Refuse (422, in Thai) what cannot be searched for."""
        for field, value in (("q", self.q), ("number", self.number), ("drafter", self.drafter)):
            if len(value) > TEXT_MAX:
                raise Invalid(f"คำค้นยาวเกินไป (ไม่เกิน {thai.thai_digits(TEXT_MAX)} ตัวอักษร)",
                              f"{field} is longer than {TEXT_MAX} characters.",
                              code="search_too_long", details={"field": field})
        if self.state and self.state not in STATES:
            raise Invalid("สถานะที่ค้นหาไม่ถูกต้อง", f"state must be one of {', '.join(STATES)}.",
                          code="bad_state", details={"field": "state"})
        if self.urgency and self.urgency not in {u.value for u in Urgency}:
            raise Invalid("ชั้นความเร็วที่ค้นหาไม่ถูกต้อง", "Unknown urgency.",
                          code="bad_urgency", details={"field": "urgency"})
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise Invalid("วันที่เริ่มต้องไม่หลังวันที่สิ้นสุด", "from is after to.",
                          code="bad_range", details={"field": "from"})
        return self


def _like(text: str) -> str:
    """``text`` as a LIKE pattern that matches it anywhere, its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _ignores_case(text: str) -> bool:
    """Whether ``text`` has letters with a case, so that it is looked for in any case. Thai
    has none, and PostgreSQL's ILIKE lowercases every row it tries (on the head's word
    search 4.2 ms of the statement's run against 2.6 ms with LIKE, EXPLAIN ANALYZE); both use
    the trigram index."""
    return text.lower() != text.upper()


def _contains(column: Any, pattern: Any, ignore_case: bool) -> Any:
    return (column.ilike(pattern, escape="\\") if ignore_case
            else column.like(pattern, escape="\\"))


# Below this many characters a LIKE pattern gives pg_trgm no trigram to look up, and the
# number is looked up by its pieces of one or two characters instead (``_has_gram``).
_TRIGRAM = 3

# What PostgreSQL lowers to a Latin letter besides its two cases (glibc and ICU alike): the
# Kelvin sign to k, the capital I with a dot to i. ILIKE compares the lowered texts.
_ALSO_LOWERED_TO = {"k": "\u212a", "i": "\u0130"}
_THAI, _THAI_END = "\u0e00", "\u0e7f"  # the Thai block, digits included


class Written(NamedTuple):
    """How one way of writing the number searched for (as typed, in Arabic and in Thai
    digits) is looked for."""

    ignore_case: bool  # it has Latin letters
    # When the trigram index is asked for the part after its last slash only
    # (``_number_contains``), whether case is ignored in that part; None when it is not.
    tail_ignore_case: bool | None


@dataclass(frozen=True)
class Shape:
    """What a search's SQL is made of, without the values it runs with (``bound``).

    A list's statement is built once per thread for each shape (``db.per_thread_upto``) and
    reused with the values bound: built afresh for every search, with its office scope and
    its cache key, it cost the head's word search 1.5-2 ms of Python a request. Each field
    is a choice between two pieces of SQL, not a value."""

    words: tuple[bool, ...] = ()  # one per word of the subject: whether case is ignored
    numbers: tuple[Written, ...] = ()  # one per way the number is written
    # The number is one or two characters, which no trigram holds: the grams index is asked
    # for any of its ways (PostgreSQL, ``_has_gram``).
    number_grams: bool = False
    date_from: bool = False
    date_to: bool = False
    state: str = ""  # "pending" (waiting at any step), "one" (that state) or "" (any)
    drafter: bool | None = None  # whether the drafter's name is looked for in any case
    urgency: bool = False


def bound(search: MemoSearch, *, grams: bool = False) -> tuple[Shape, dict[str, Any]]:
    """``search`` as the shape of its SQL and the values to run it with, their names all
    starting ``search_`` (the list's own parameters do not). ``grams``: the database has
    ``ix_memo_number_grams`` (PostgreSQL, migration 0026)."""
    params: dict[str, Any] = {}
    words = search.q.split()
    for n, word in enumerate(words):
        params[f"search_word_{n}"] = _like(word)
    numbers: list[Written] = []
    number_grams = False
    if number := search.number.strip():
        # The register prints Thai or Arabic digits as the office chose; find either.
        variants = sorted({number, thai.arabic_digits(number), thai.thai_digits(number)})
        for n, variant in enumerate(variants):
            tail = variant.rsplit("/", 1)[-1].strip()
            by_tail = tail != variant and len(tail) >= _TRIGRAM
            params[f"search_number_{n}"] = _like(variant)
            if by_tail:
                params[f"search_number_tail_{n}"] = _like(tail)
            numbers.append(Written(_ignores_case(variant),
                                   _ignores_case(tail) if by_tail else None))
        # Digits are one character in either script: every way is as long as the one typed.
        if grams and len(number) < _TRIGRAM and (pieces := _grams(variants)) is not None:
            number_grams, params["search_number_grams"] = True, pieces
    for field in ("date_from", "date_to", "urgency"):
        if value := getattr(search, field):
            params[f"search_{field}"] = value
    state = ""
    if search.state == "pending":
        state = "pending"
    elif search.state:
        state, params["search_state"] = "one", search.state
    drafter = None
    if who := search.drafter.strip():
        drafter = _ignores_case(who)
        params["search_drafter"], params["search_username"] = _like(who), who.lower()
    shape = Shape(tuple(_ignores_case(w) for w in words), tuple(numbers), number_grams,
                  bool(search.date_from), bool(search.date_to), state, drafter,
                  bool(search.urgency))
    return shape, params


def conditions(shape: Shape) -> list[Any]:
    """The WHERE clauses of a search of this shape on ``Memo`` (the drafter by id: no join
    needed), its values bound parameters named as ``bound`` names them."""
    found: list[Any] = [_contains(Memo.subject, bindparam(f"search_word_{n}"), ignore_case)
                        for n, ignore_case in enumerate(shape.words)]
    if shape.numbers:
        found.append(or_(*(_number_contains(n, written)
                           for n, written in enumerate(shape.numbers))))
    if shape.number_grams:
        found.append(_has_gram())
    if shape.date_from:
        found.append(col(Memo.memo_date) >= bindparam("search_date_from"))
    if shape.date_to:
        found.append(col(Memo.memo_date) <= bindparam("search_date_to"))
    if shape.state == "pending":  # waiting at any step: pending_1, pending_2 …
        found.append(col(Memo.state).like("pending\\_%", escape="\\"))
    elif shape.state:
        found.append(col(Memo.state) == bindparam("search_state"))
    if shape.drafter is not None:
        found.append(col(Memo.drafter_id).in_(select(User.id).where(
            or_(_contains(User.full_name, bindparam("search_drafter"), shape.drafter),
                col(User.username) == bindparam("search_username")))))
    if shape.urgency:
        found.append(col(Memo.urgency) == bindparam("search_urgency"))
    return found


def _number_contains(n: int, written: Written) -> Any:
    """The document number contains the n-th way of writing it. A number reads "สป
    ๓๔๕๐๑/๘๓๙": every memo of the office shares what comes before the slash, so its
    trigrams match every row and the GIN index merges their posting lists for nothing (1.9
    ms of the head's number search at 100,000 memos, EXPLAIN ANALYZE). The index is then
    asked for the part after the last slash only (``tail_ignore_case`` is not None); the
    whole text is still required, through an expression the index does not serve, so the
    rows found are the same."""
    whole: Any = bindparam(f"search_number_{n}")
    if written.tail_ignore_case is None:
        return _contains(Memo.number, whole, written.ignore_case)
    return (_contains(Memo.number, bindparam(f"search_number_tail_{n}"),
                      written.tail_ignore_case)
            & _contains(func.coalesce(Memo.number, ""), whole, written.ignore_case))


def _grams(variants: list[str]) -> list[str] | None:
    """Every way the index may hold a piece that the LIKE (or ILIKE) of one of ``variants``
    finds: as typed, and for a Latin letter in each case and what else PostgreSQL lowers to
    it. None when a letter's cases are not known here (Greek, Cyrillic …): the LIKE alone
    then decides, reading the office's numbers."""
    ways: set[str] = set()
    for variant in variants:
        # Matched in any case, the text is lowered by the database, and under an ICU
        # collation a character may lower to two (İ to i and a combining dot): a search
        # for "i" and a combining dot would then match a number with İ, whose pieces are not
        # among these. Letters with a case go with ASCII and Thai only.
        if _ignores_case(variant) and not all(c.isascii() or _THAI <= c <= _THAI_END
                                               for c in variant):
            return None
        options: list[set[str]] = []
        for char in variant:
            if char.lower() == char.upper():
                options.append({char})
            elif char.isascii():
                options.append({char.lower(), char.upper(),
                                *_ALSO_LOWERED_TO.get(char.lower(), "")})
            else:
                return None
        ways.update("".join(way) for way in itertools.product(*options))
    return sorted(ways)


def _has_gram() -> Any:
    """The number has one of the pieces ``search_number_grams`` (every way of writing a
    search of one or two characters), as ``ix_memo_number_grams`` holds them (migration
    0026): pg_trgm has no trigram to look up for so few characters, and the office's every
    number was read instead. One condition on its own, so that the index answers it whole
    and PostgreSQL does not compute the pieces again for each row found; the LIKE above
    still decides."""
    grams = postgresql.ARRAY(Text())
    return func.memo_number_grams(Memo.number, type_=grams).overlap(
        bindparam("search_number_grams", type_=grams))
