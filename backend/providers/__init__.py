"""Providers: choosing one is a lookup in `PROVIDERS`, never an if-chain."""

from __future__ import annotations

from backend.providers.base import Provider

# type name -> provider class; a provider whose optional SDK is missing simply does not register.
PROVIDERS: dict[str, type[Provider]] = {}
