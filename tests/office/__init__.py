"""The office: office-time arithmetic with Thai holidays and the office's own days."""
