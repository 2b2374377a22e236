"""Services: the only place that loads, locks, decides, records and commits.

Views and the API call these; they never touch the database themselves.
"""
