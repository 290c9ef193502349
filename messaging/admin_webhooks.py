"""Admin of the webhooks part of messaging (imported by messaging/admin.py)."""
