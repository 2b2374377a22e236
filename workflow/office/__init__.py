"""The office itself: its calendar and office time, the Garuda on its memos, and the
one rule for loading a record of this office or answering 404.
"""
