"""``db.PlanHints``: kept for a while, bounded, forgotten all at once past the bound."""

from __future__ import annotations

from workflow.db import PlanHints


def test_a_hint_is_kept_for_its_seconds_and_no_longer() -> None:
    kept, gone = PlanHints(seconds=60.0, entries=10), PlanHints(seconds=0.0, entries=10)
    kept.add(("office", 1))
    gone.add(("office", 1))
    assert ("office", 1) in kept and ("office", 2) not in kept
    assert ("office", 1) not in gone


def test_past_its_bound_every_hint_is_forgotten() -> None:
    hints = PlanHints(seconds=60.0, entries=3)
    for key in range(3):
        hints.add(key)
    assert len(hints) == 3
    hints.add(3)
    assert len(hints) == 1 and 3 in hints and 0 not in hints
