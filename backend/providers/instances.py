"""Provider objects, one per configuration and process: each holds a pooled SDK client on the process's asyncio loop
(backend.asyncbridge), so calls reuse connections. Bounded: tenants' keys rotate and tenants come and go."""

from __future__ import annotations

import asyncio
import os
import threading

from backend import asyncbridge
from backend.providers.base import Provider, ProviderConfig

MAX_PROVIDER_INSTANCES = 256
_instances: dict[tuple, Provider] = {}
_instances_lock = threading.Lock()


def provider_instance(registry: dict[str, type[Provider]], config: ProviderConfig) -> Provider:
    """One provider object per configuration and process (its pooled client lives on this process's loop)."""
    key = (os.getpid(), config.type, config.name, config.owner, config.base_url, config.api_key, config.timeouts,
           tuple(sorted(config.extra.items())), config.models)  # fmt: skip
    with _instances_lock:
        instance = _instances.get(key)
        if instance is None:
            if len(_instances) >= MAX_PROVIDER_INSTANCES:  # keys rotate, tenants come and go: drop the oldest
                oldest = _instances.pop(next(iter(_instances)))
                # Its calls in flight finish first: aclose() closes the client as the last of them ends.
                asyncio.run_coroutine_threadsafe(oldest.aclose(), asyncbridge.get_loop())
            instance = _instances[key] = registry[config.type](config)
    return instance
