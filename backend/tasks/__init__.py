"""Celery: the app bound to Flask, and the tasks the worker runs."""
