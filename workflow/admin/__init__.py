"""Administration of one office: people, positions, staff import, routes, acting
appointments, office settings and the outbox. Every change is the administrator's, checked
here, and audited with what it was before and after.
"""
