"""Ministries, their codes and the aliases that follow them across governments."""
