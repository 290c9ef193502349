"""Celery tasks of the webhooks part of messaging (imported by messaging/tasks.py)."""
