"""The audit trail: what is recorded, tamper evidence, search, export and its indexes."""
