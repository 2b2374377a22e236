"""The installation as a whole: its offices (tenants) and the people who run it."""
