"""The JSON Schema of the tenant settings document that `PATCH /api/admin/tenant` accepts."""

from __future__ import annotations

from backend.providers import PROVIDER_TYPES

SENSITIVITIES = ("general", "confidential", "highly_confidential")
ROUTING_MODES = ("cost", "quality", "pinned", "selfhosted_first")
CAPABILITIES = ("streaming", "json_schema", "tools")
MODEL_REF = {"type": "string", "pattern": r"^[A-Za-z0-9._-]+/[A-Za-z0-9._:/-]+$", "maxLength": 300}
NAME = {"type": "string", "pattern": r"^[a-z0-9][a-z0-9._-]{0,62}$"}
MONEY = {"type": ["number", "null"], "minimum": 0, "maximum": 10_000_000}
PER_MINUTE = {"type": ["integer", "null"], "minimum": 1, "maximum": 10_000_000}

MODEL_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "context_window"],
    "properties": {
        "id": {"type": "string", "minLength": 1, "maxLength": 200},
        "context_window": {"type": "integer", "minimum": 256, "maximum": 10_000_000},
        "max_output_tokens": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
        "capabilities": {"type": "array", "items": {"enum": list(CAPABILITIES)}, "uniqueItems": True},
        "price_per_million": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"input": MONEY, "output": MONEY},
        },
        "location": {"type": "string", "maxLength": 64},
        "tier": {"type": "integer", "minimum": 1, "maximum": 3},
    },
}

# A tenant provider either adds its own endpoint/key (has `type`) or narrows a platform provider of that name
# (`enabled`, and `allowed_models` to restrict which of its models the tenant may use).
PROVIDER_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": NAME,
        "type": {"enum": list(PROVIDER_TYPES)},
        "base_url": {"type": ["string", "null"], "maxLength": 500},
        "api_key": {"type": ["string", "null"], "maxLength": 4096},
        "enabled": {"type": "boolean"},
        "models": {"type": "array", "items": MODEL_SCHEMA, "maxItems": 100},
        "allowed_models": {"type": ["array", "null"], "items": {"type": "string"}, "maxItems": 200},
        "api_version": {"type": "string", "maxLength": 40},
    },
}

SENSITIVITY_RULE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "providers": {"type": "array", "items": {"type": "string", "maxLength": 100}, "maxItems": 100},
        "locations": {"type": "array", "items": {"type": "string", "maxLength": 64}, "maxItems": 100},
    },
}

SETTINGS_PATCH_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "providers": {"type": "array", "items": PROVIDER_SCHEMA, "maxItems": 50},
        "routing": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "mode": {"enum": list(ROUTING_MODES)},
                "pinned_fallback": {"type": "boolean"},
                "pins": {
                    "type": "object",
                    "propertyNames": {"pattern": r"^[a-z][a-z0-9_]{0,63}$"},
                    "additionalProperties": {"type": "array", "items": MODEL_REF, "maxItems": 20, "uniqueItems": True},
                },
            },
        },
        "data_policy": {
            "type": "object",
            "additionalProperties": False,
            "properties": {name: SENSITIVITY_RULE for name in SENSITIVITIES},
        },
        "budgets": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"tenant_monthly_usd": MONEY, "user_monthly_usd": MONEY},
        },
        "rate_limits": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "user_requests_per_minute": PER_MINUTE,
                "tenant_requests_per_minute": PER_MINUTE,
                "user_tokens_per_minute": PER_MINUTE,
                "tenant_tokens_per_minute": PER_MINUTE,
            },
        },
        "disabled_skills": {"type": "array", "items": {"type": "string", "maxLength": 64}, "uniqueItems": True},
        "expected_version": {"type": "integer", "minimum": 1},
    },
}
