"""Admin of the campaigns part of messaging (imported by messaging/admin.py)."""
