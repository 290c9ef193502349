"""Models of the campaigns part of messaging (imported by messaging/models.py)."""
