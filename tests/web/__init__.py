"""Cross-cutting suites of the web layer: rules that every page, form and API call shares."""
