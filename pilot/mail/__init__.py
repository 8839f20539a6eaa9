"""Outgoing messages (e-mail and webhooks) through a queue: sending never blocks."""
