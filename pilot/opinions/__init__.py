"""DINUM's statutory opinion (avis conforme): requests, clock, opinions, recommendations."""
