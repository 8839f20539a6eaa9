"""Reporting campaigns: DINUM collects the ministries' reports before each edition."""
