"""Reading and changing a tenant's settings document (GET/PATCH /api/admin/tenant)."""

from __future__ import annotations

import copy
import functools
import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend.admin import audit
from backend.admin.settings_schema import SETTINGS_PATCH_SCHEMA
from backend.crypto import SecretBox, SecretDecryptionError, secret_box
from backend.errors import ApiError
from backend.extensions import db
from backend.models import Tenant, TenantProvider, TenantSettings
from backend.skills.inputs import input_errors

if TYPE_CHECKING:
    from backend.catalog.platform_limits import Widening

# A part of a field's path as an error names it: a schema's property name, an index, or a routing pin's skill.
FIELD_PART = re.compile(r"[a-z][a-z0-9_]{0,63}|[0-9]+|\(body\)")
KEPT_KEY = "(the stored key)"  # stands in for a key a PATCH keeps, when the change is checked; never sent anywhere
POLICY_KEYS = ("routing", "data_policy", "budgets", "rate_limits", "disabled_skills")
DEFAULT_POLICY: dict[str, Any] = {
    "routing": {"mode": "cost", "pins": {}},
    "data_policy": {"general": {"providers": ["*"]}},
    "budgets": {"tenant_monthly_usd": None, "user_monthly_usd": None},
    "rate_limits": {"user_requests_per_minute": 60, "tenant_requests_per_minute": 600},
    "disabled_skills": [],
}


def settings_row(tenant_id: str) -> TenantSettings:
    """The tenant's settings row, created with the defaults on first use."""
    row = db.session.get(TenantSettings, tenant_id)
    if row is None:
        # Committed at once: a write transaction left open here would block the accounting writes of the request.
        try:
            db.session.add(TenantSettings(tenant_id=tenant_id, **copy.deepcopy(DEFAULT_POLICY)))
            db.session.commit()
        except IntegrityError:  # a concurrent request made it first
            db.session.rollback()
        row = db.session.get(TenantSettings, tenant_id)
    return row


def tenant_providers(tenant_id: str) -> list[TenantProvider]:
    """The tenant's own provider rows, by name."""
    query = select(TenantProvider).where(TenantProvider.tenant_id == tenant_id).order_by(TenantProvider.name)
    return list(db.session.scalars(query))


def provider_document(row: TenantProvider, box: SecretBox) -> dict[str, Any]:
    """A provider as the API shows it: the key is never returned, only whether one is set, and `api_key_unreadable`
    when the configured secret keys cannot decrypt it (the catalog leaves such a provider out: set the key again)."""
    doc: dict[str, Any] = {"name": row.name, "enabled": row.enabled, "api_key_set": bool(row.api_key_encrypted)}
    if row.api_key_encrypted and not _readable(box, row.api_key_encrypted):
        doc["api_key_unreadable"] = True
    if row.type:
        doc.update({"type": row.type, "base_url": row.base_url, "models": row.models})
    else:  # a narrowing row: its own URL and model overrides too, or a resent document would drop them
        doc.update({key: value for key, value in (("base_url", row.base_url), ("models", row.models)) if value})
    extra = row.settings or {}
    doc.update(extra)
    return doc


def _readable(box: SecretBox, encrypted: str) -> bool:
    """Whether a stored secret decrypts with the configured secret keys (the plaintext is dropped at once)."""
    try:
        box.decrypt(encrypted)
    except SecretDecryptionError:
        return False
    return True


def settings_document(tenant_id: str) -> dict[str, Any]:
    """The whole settings document of a tenant."""
    tenant = db.session.get(Tenant, tenant_id)
    row = settings_row(tenant_id)
    document = {key: copy.deepcopy(getattr(row, key)) for key in POLICY_KEYS}
    document["name"] = tenant.name if tenant else ""
    document["version"] = row.version
    box = secret_box()
    document["providers"] = [provider_document(p, box) for p in tenant_providers(tenant_id)]
    return document


def validation_errors(patch: Any) -> list[dict[str, str]]:
    """Every schema violation of a PATCH body, as {field, message} pairs; the messages never quote a value (the body
    carries API keys, and jsonschema's own messages would echo them)."""
    errors = [
        {**error, "field": "(body)"} if error["field"] == "(root)" else error
        for error in input_errors(SETTINGS_PATCH_SCHEMA, patch)
    ]
    errors += [{"field": field, "message": "must not contain a NUL character"} for field in nul_character_fields(patch)]
    return errors


def nul_character_fields(value: Any, path: str = "") -> list[str]:
    """The fields holding a string with a NUL character, which PostgreSQL cannot store in text."""
    if isinstance(value, str):
        return [path or "(body)"] if "\x00" in value else []
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return []
    return [field for key, item in items for field in nul_character_fields(item, f"{path}/{key}".lstrip("/"))]


def apply_patch(tenant_id: str, patch: dict[str, Any], actor: str, known: KnownNames) -> dict[str, Any]:
    """Validate and merge a PATCH (top-level keys replace), audit each changed key, and return the new document."""
    errors = validation_errors(patch)
    if not errors and "providers" in patch:
        errors = known.check_providers(patch["providers"])
    if not errors:
        errors = known.check_policy(patch)
    if errors:
        raise invalid_settings(errors)
    settings_row(tenant_id)  # made first if missing, then read again under a row lock (PostgreSQL): a concurrent
    # PATCH waits here until this one commits, then sees its version, so neither overwrites the other unseen.
    row = db.session.get(TenantSettings, tenant_id, with_for_update=True, populate_existing=True)
    expected = patch.get("expected_version")
    if expected is not None and expected != row.version:
        db.session.rollback()  # let go of the row lock at once
        raise ApiError(409, "version_conflict", "The settings changed since you read them; reload and try again.")
    # Under the lock: a routing change committed meanwhile is among the stored references checked.
    errors = known.check_kept_references(patch, {key: getattr(row, key) for key in POLICY_KEYS})
    if errors:
        db.session.rollback()
        raise invalid_settings(errors)
    before = settings_document(tenant_id)
    if "name" in patch:
        db.session.get(Tenant, tenant_id).name = patch["name"]
    for key in POLICY_KEYS:
        if key in patch:
            setattr(row, key, _merged_policy(key, patch[key]))
    if "providers" in patch:
        _replace_providers(tenant_id, patch["providers"])
    row.version += 1
    db.session.flush()
    after = settings_document(tenant_id)
    for key in ("name", "providers", *POLICY_KEYS):
        changed = key in patch and before.get(key) != after.get(key)
        if changed or (key == "providers" and _keys_changed(patch)):
            recorded = _with_key_changes(after[key], patch) if key == "providers" else after.get(key)
            audit.record(tenant_id, actor, f"settings.{key}", "tenant", {key: before.get(key)}, {key: recorded})
    db.session.commit()
    return after


def invalid_settings(errors: list[dict[str, str]]) -> ApiError:
    """The 422 of a settings change, its problems as {field, message} details. No message quotes what the admin
    typed (a key pasted into the wrong field would come back), and a field is named without such parts."""
    details = [{**error, "field": named_field(error["field"])} for error in errors]
    return ApiError(422, "invalid_settings", "The settings are not valid.", details=details)


def named_field(field: str) -> str:
    """A field's path with each part that looks like no name (a key the schema does not know, a pin's skill that
    breaks the pattern) shown as `*`."""
    return "/".join(part if FIELD_PART.fullmatch(part) else "*" for part in field.split("/"))


def _merged_policy(key: str, value: Any) -> Any:
    """Top-level keys replace; defaults fill what a partial object leaves out."""
    default = DEFAULT_POLICY[key]
    if isinstance(default, dict):
        return {**copy.deepcopy(default), **value}
    return value


def _with_key_changes(providers: list[dict[str, Any]], patch: dict[str, Any]) -> list[dict[str, Any]]:
    """The providers document as audited: each provider whose key the patch set or cleared says so (the key itself
    never: a new key and the old one both read `api_key_set: true`)."""
    sent = {doc["name"]: doc["api_key"] for doc in patch.get("providers", []) if "api_key" in doc}
    marks = {name: "set" if key else "cleared" for name, key in sent.items()}
    return [{**doc, "api_key_change": marks[doc["name"]]} if doc["name"] in marks else doc for doc in providers]


def _keys_changed(patch: dict[str, Any]) -> bool:
    """Whether the patch sets or clears any provider key (a key change is audited even when nothing else changed)."""
    return any("api_key" in provider for provider in patch.get("providers", []))


def _replace_providers(tenant_id: str, providers: list[dict[str, Any]]) -> None:
    """Make the tenant's provider rows match the list; an omitted api_key keeps the stored one, null clears it."""
    existing = {row.name: row for row in tenant_providers(tenant_id)}
    box = secret_box()
    for doc in providers:
        row = existing.pop(doc["name"], None) or TenantProvider(tenant_id=tenant_id, name=doc["name"])
        row.type = doc.get("type")
        row.base_url = doc.get("base_url")
        row.enabled = doc.get("enabled", True)
        row.models = doc.get("models", [])
        row.settings = {k: doc[k] for k in ("allowed_models", "api_version") if doc.get(k) is not None}
        if "api_key" in doc:
            row.api_key_encrypted = box.encrypt(doc["api_key"]) if doc["api_key"] else None
        db.session.add(row)
    for row in existing.values():
        db.session.delete(row)


class KnownNames:
    """What a settings change may refer to: the platform's providers, the tenant's catalog, every skill."""

    def __init__(self, platform: Any, tenant_id: str, current: Any, skill_ids: set[str]) -> None:
        self.platform = platform  # the platform Catalog
        self.tenant_id = tenant_id
        self.current = current  # the tenant's Catalog as stored now (platform providers and its own)
        self.skill_ids = skill_ids
        # The tenant's Catalog once the patch's providers replace the stored ones, made by check_providers from the
        # very builds it checked: each entry is built once per PATCH.
        self.proposed: Any = None

    @property
    def platform_providers(self) -> set[str]:
        """Names of the platform's providers."""
        return set(self.platform.providers)

    def check_providers(self, providers: list[dict[str, Any]]) -> list[dict[str, str]]:
        """Each entry must build into a provider exactly as routing will build it (hosts, types, models). When all do,
        the catalog they make is kept as `proposed` for the checks of references that follow."""
        from backend.catalog.parsing import CatalogError
        from backend.catalog.tenant import catalog_of_builds, tenant_catalog_settings, tenant_provider

        allowed_hosts, pricing = tenant_catalog_settings()
        errors = []
        names = [doc["name"] for doc in providers]
        entries = self.with_kept_keys(providers)
        builds = []
        for index, doc in enumerate(entries):
            if names.count(doc["name"]) > 1:
                errors.append({"field": f"providers/{index}/name", "message": "provider names must be unique"})
            if doc.get("type") is None and doc["name"] not in self.platform.providers:
                errors.append({"field": f"providers/{index}/type", "message": "a new provider needs a type"})
                continue
            try:
                build = tenant_provider(
                    doc, self.platform, self.tenant_id, allowed_hosts, pricing, f"providers/{index}"
                )
            except CatalogError as exc:
                errors.append({"field": f"providers/{index}", "message": str(exc)[:300]})
                continue
            builds.append(build)
            errors += self.widening_errors(index, doc, build.widened)
            # A misspelt allowed model would otherwise silently leave the provider with no model at all.
            known = {m.id for m in build.config.models} | {m.ref for m in build.config.models}
            for position, name in enumerate(doc.get("allowed_models") or []):
                if name not in known:
                    message = f"entry {position + 1} is an unknown model for this provider"
                    errors.append({"field": f"providers/{index}/allowed_models", "message": message})
        if not errors:  # every entry built
            self.proposed = catalog_of_builds(self.platform, self.tenant_id, entries, builds)
        return errors

    def resulting_catalog(self, patch: dict[str, Any]) -> Any:
        """The tenant's catalog as it will be once the patch is applied (its providers list replaces the stored one):
        the one check_providers built from the patch's providers, built here only if it did not run."""
        if "providers" not in patch:
            return self.current
        if self.proposed is not None:
            return self.proposed
        from backend.catalog.tenant import merge_tenant_providers, tenant_catalog_settings

        entries = self.with_kept_keys(patch["providers"])
        return merge_tenant_providers(self.platform, self.tenant_id, entries, *tenant_catalog_settings())

    def with_kept_keys(self, providers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The entries as they will be stored: one that omits `api_key` keeps its stored key, so it is checked as a
        provider with a key of its own (a stand-in: stored keys are not decrypted to validate a change)."""
        stored = self.names_with_stored_keys
        return [
            {**doc, "api_key": KEPT_KEY} if "api_key" not in doc and doc["name"] in stored else doc for doc in providers
        ]

    @functools.cached_property
    def stored_providers(self) -> list[TenantProvider]:
        """The tenant's provider rows as stored (read once: every check of a PATCH needs them)."""
        return tenant_providers(self.tenant_id)

    @property
    def names_with_stored_keys(self) -> frozenset[str]:
        """The tenant's providers that have a key stored."""
        return frozenset(row.name for row in self.stored_providers if row.api_key_encrypted)

    def widening_errors(self, index: int, doc: dict[str, Any], widened: tuple[Widening, ...]) -> list[dict[str, str]]:
        """Each field of the entry that claims more than the platform's model offers. One sent back exactly as stored
        (saved before widening was refused) passes: the console resends the providers it read, and the catalog reads
        such a row with the platform's limits anyway."""
        row = next((row for row in self.stored_providers if row.name == doc["name"]), None)
        stored = {model.get("id"): model for model in (row.models if row else None) or [] if isinstance(model, dict)}
        errors = []
        for widening in widened:
            sent = doc["models"][widening.index].get(widening.field)
            kept = stored.get(widening.model_id, {}).get(widening.field)
            if widening.field == "capabilities" and kept is not None and sent is not None:
                sent, kept = set(sent), set(kept)
            if kept is None or sent != kept:
                field = f"providers/{index}/models/{widening.index}/{widening.field}"
                errors.append({"field": field, "message": widening.message})
        return errors

    def check_policy(self, patch: dict[str, Any]) -> list[dict[str, str]]:
        """The references the patch sends, checked against the catalog the patch leaves: the tenant's own providers
        count whether or not the patch lists them, and a provider the patch removes no longer does."""
        return self.reference_errors(patch, self.resulting_catalog(patch))

    def check_kept_references(self, patch: dict[str, Any], stored: dict[str, Any]) -> list[dict[str, str]]:
        """A providers change must not strand the stored pins and data policy rules it keeps (those it does not
        replace): each that resolves in the tenant's catalog now is checked as the patch's own would be.

        One broken already (the operator removed a model, say) is not this change's doing and does not block it: it
        fails closed at call time, and the next save of the routing tab reports it.
        """
        kept = {key: stored[key] for key in ("routing", "data_policy") if key not in patch}
        if "providers" not in patch or not kept:
            return []
        errors = self.reference_errors(self.resolving_now(kept), self.resulting_catalog(patch))
        for error in errors:
            key = error["field"].split("/")[0]  # routing or data_policy
            error["message"] += f" once this change is saved, and the saved {key} names it: send {key} with it"
        return errors

    def resolving_now(self, policy: dict[str, Any]) -> dict[str, Any]:
        """The pins and data policy provider names of `policy` that resolve in the tenant's catalog as stored now."""
        resolving: dict[str, Any] = {}
        if "routing" in policy:
            pins = (policy["routing"] or {}).get("pins") or {}
            resolving["routing"] = {
                "pins": {
                    skill: [ref for ref in refs if pin_problem(self.current, ref) is None]
                    for skill, refs in pins.items()
                    if skill in self.skill_ids
                }
            }
        if "data_policy" in policy:
            resolving["data_policy"] = {
                level: {"providers": [name for name in rule.get("providers", []) if name in self.current.providers]}
                for level, rule in (policy["data_policy"] or {}).items()
            }
        return resolving

    def reference_errors(self, policy: dict[str, Any], catalog: Any) -> list[dict[str, str]]:
        """Pins must name models the tenant may use, disabled skills known skills, data policies known providers.

        A message names a reference only when the tenant's catalog knows it now (a name shown in the settings anyway);
        anything else is named by its position, since an admin may have pasted a key or a document there.
        """
        errors = []
        for skill, refs in (policy.get("routing") or {}).get("pins", {}).items():
            if skill not in self.skill_ids:
                errors.append({"field": f"routing/pins/{skill}", "message": "no such skill"})
            for position, ref in enumerate(refs):
                problem = pin_problem(catalog, ref)
                if problem:
                    named = f"model {ref}" if ref in self.current.models else f"the model of pin {position + 1}"
                    errors.append({"field": f"routing/pins/{skill}", "message": f"{named} {problem}"})
        for position, skill in enumerate(policy.get("disabled_skills", [])):
            if skill not in self.skill_ids:
                message = f"entry {position + 1} is not an installed skill"
                errors.append({"field": "disabled_skills", "message": message})
        for level, rule in (policy.get("data_policy") or {}).items():
            for position, name in enumerate(rule.get("providers", [])):
                if name != "*" and name not in catalog.providers:
                    named = f"provider {name}" if name in self.current.providers else f"provider (entry {position + 1})"
                    errors.append({"field": f"data_policy/{level}/providers", "message": f"unknown {named}"})
        return errors


def pin_problem(catalog: Any, ref: str) -> str | None:
    """Why a pin cannot route to `ref` in this catalog, or None when it can."""
    if ref not in catalog.models:
        return "is unknown"
    if ref in catalog.not_allowed:
        return "is not allowed"
    return None
