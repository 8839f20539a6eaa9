"""Editions: frozen, numbered copies of the panorama."""
