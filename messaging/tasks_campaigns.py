"""Celery tasks of the campaigns part of messaging (imported by messaging/tasks.py)."""
