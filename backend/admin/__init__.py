"""Tenant administration: the settings document, its validation, and the audit log."""
