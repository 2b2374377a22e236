"""Circulation (แจ้งเวียน): after a memo is approved, its final signer (or its drafter, where
the office allows it) sends it round to chosen positions, divisions or all staff; each
recipient opens it and acknowledges it (ทราบ).

``operations`` holds the writes (circulate, acknowledge, the first opening), ``recipients``
who a choice of targets means, ``rules`` who may circulate, ``queries`` the reads (the memo
page's section, the tab's badge, the certificate's list) and ``notices`` the emails and the
reminder sweep. Below it: memos (locking), identity (access), outbox, office and trail.
"""
