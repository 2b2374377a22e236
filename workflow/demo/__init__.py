"""The demo office of the real memo in shared/seed/progress-memo-2565.txt, for ``make run``."""
