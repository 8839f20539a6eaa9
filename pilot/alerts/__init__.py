"""Early-warning alerts, recorded once per event, e-mailed and sent to webhooks."""
