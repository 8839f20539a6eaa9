"""Imports: every file received, archived unchanged, with its findings and counts."""
