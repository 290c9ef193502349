"""Models of the webhooks part of messaging (imported by messaging/models.py)."""
