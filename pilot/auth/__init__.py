"""Tokens and roles: who may read and write what."""
