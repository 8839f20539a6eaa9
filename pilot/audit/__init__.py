"""Audit events: who changed which field of what, from which value to which."""
