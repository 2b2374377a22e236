"""End to end in headless Chromium: the memo's route, and an office set up from nothing."""
