"""The model catalog: the platform providers file, tenant additions, key handling and self-hosted pricing."""

from __future__ import annotations

import textwrap
from decimal import Decimal

import pytest

from backend.catalog import CatalogError, load_providers_file, platform_catalog, tenant_catalog
from backend.catalog.parsing import selfhosted_price_per_million
from backend.crypto import secret_box
from backend.extensions import db
from backend.models import Tenant, TenantProvider

PROVIDERS_YAML = """
providers:
  - name: openai-main
    type: openai
    base_url: https://api.openai.com/v1
    api_key_env: TEST_OPENAI_KEY
    models:
      - id: gpt-4.1-mini
        context_window: 128000
        max_output_tokens: 16384
        capabilities: [streaming, json_schema, tools]
        price_per_million: {input: 0.40, output: 1.60}
        location: us-east
        tier: 2
      - id: gpt-4.1
        context_window: 128000
        max_output_tokens: 16384
        capabilities: [streaming, json_schema, tools]
        price_per_million: {input: 2.00, output: 8.00}
        location: us-east
        tier: 1
  - name: local
    type: selfhosted
    base_url: http://127.0.0.1:8081/v1
    models:
      - id: gemma-3-270m
        context_window: 8192
        max_output_tokens: 2048
        capabilities: [streaming]
        location: on-prem
        tier: 3
"""
NO_PRICING = {"gpu_hour_usd": 0.0, "tokens_per_second": 0.0}


def write(tmp_path, text: str):
    """Write a providers file and return its path."""
    path = tmp_path / "providers.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_loads_providers_models_and_keys_from_the_named_variable(tmp_path):
    catalog = load_providers_file(write(tmp_path, PROVIDERS_YAML), NO_PRICING, {"TEST_OPENAI_KEY": "sk-platform"})
    openai = catalog.providers["openai-main"]
    assert openai.api_key == "sk-platform" and openai.owner is None
    assert "sk-platform" not in repr(openai)
    mini = catalog.models["openai-main/gpt-4.1-mini"]
    assert mini.price_in_per_million == Decimal("0.40") and mini.price_out_per_million == Decimal("1.60")
    assert mini.capabilities == frozenset({"streaming", "json_schema", "tools"}) and mini.tier == 2
    assert catalog.models["local/gemma-3-270m"].location == "on-prem"
    assert catalog.providers["local"].api_key is None


def test_selfhosted_price_comes_from_gpu_hour_cost_and_throughput(tmp_path):
    pricing = {"gpu_hour_usd": 2.0, "tokens_per_second": 100.0}
    catalog = load_providers_file(write(tmp_path, PROVIDERS_YAML), pricing, {})
    gemma = catalog.models["local/gemma-3-270m"]
    # 2 USD per hour / 360,000 tokens per hour = 5.555556 USD per million tokens.
    assert gemma.price_in_per_million == gemma.price_out_per_million == Decimal("5.555556")
    assert catalog.models["openai-main/gpt-4.1"].price_in_per_million == Decimal("2.00")  # listed prices win
    assert selfhosted_price_per_million(0, 100) == 0


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("context_window: 128000", "providers.yaml: providers[0].models[0].context_window: must be a positive integer"),
        ("tier: 2", "providers.yaml: providers[0].models[0].tier: must be 1, 2 or 3"),
        ("type: openai", "providers.yaml: providers[0].type: must be one of"),
        ("capabilities: [streaming, json_schema, tools]\n", "providers[0].models[0].capabilities"),
        ("base_url: https://api.openai.com/v1", "providers.yaml: providers[0].base_url: must be an http or https URL"),
    ],
)
def test_validation_names_the_file_and_the_field(tmp_path, broken, message):
    replacement = {
        "context_window: 128000": "context_window: -5",
        "tier: 2": "tier: 7",
        "type: openai": "type: openia",
        "capabilities: [streaming, json_schema, tools]\n": "capabilities: [telepathy]\n",
        "base_url: https://api.openai.com/v1": "base_url: ftp://api.openai.com",
    }[broken]
    with pytest.raises(CatalogError) as caught:
        load_providers_file(write(tmp_path, PROVIDERS_YAML.replace(broken, replacement, 1)), NO_PRICING, {})
    assert message in str(caught.value)


def test_keys_in_the_file_and_duplicate_names_are_rejected(tmp_path):
    with pytest.raises(CatalogError, match=r"providers\[0\].api_key: keys do not belong in the file"):
        load_providers_file(write(tmp_path, PROVIDERS_YAML.replace("api_key_env:", "api_key:")), NO_PRICING, {})
    with pytest.raises(CatalogError, match="duplicate provider name 'openai-main'"):
        load_providers_file(write(tmp_path, PROVIDERS_YAML.replace("name: local", "name: openai-main")), NO_PRICING, {})
    with pytest.raises(CatalogError, match="is not valid YAML"):
        load_providers_file(write(tmp_path, "providers: [\n"), NO_PRICING, {})


@pytest.fixture
def catalog_app(tmp_path, app_config, monkeypatch):
    """An app with the providers file, one tenant, and the platform key in the environment."""
    from backend import create_app
    from backend.database import Base

    monkeypatch.setenv("TEST_OPENAI_KEY", "sk-platform")
    app_config.update(
        PROVIDERS_FILE=str(write(tmp_path, PROVIDERS_YAML)),
        ALLOWED_MODEL_HOSTS=["gpu.tenant.example"],
        SELFHOSTED_GPU_HOUR_USD=1.8,
        SELFHOSTED_TOKENS_PER_SECOND=500,
    )
    app = create_app(app_config)
    with app.app_context():
        Base.metadata.create_all(db.engine)
        db.session.add(Tenant(id="t1", name="Contoso"))
        db.session.commit()
        yield app
        db.engine.dispose()


def add_row(**fields) -> None:
    """Store one tenant provider row, its key encrypted as the admin API does."""
    key = fields.pop("api_key", None)
    row = TenantProvider(tenant_id="t1", **fields)
    row.api_key_encrypted = secret_box().encrypt(key) if key else None
    db.session.add(row)
    db.session.commit()


def test_platform_catalog_follows_the_app_config_and_is_cached(catalog_app):
    first = platform_catalog()
    assert first is platform_catalog()
    assert first.providers["openai-main"].api_key == "sk-platform"
    assert first.models["local/gemma-3-270m"].price_in_per_million == Decimal("1.000000")  # 1.8 USD / 1.8M tokens


def test_a_tenant_without_rows_sees_every_platform_model(catalog_app):
    catalog = tenant_catalog("t1")
    assert set(catalog.models) == {"openai-main/gpt-4.1-mini", "openai-main/gpt-4.1", "local/gemma-3-270m"}
    assert not catalog.not_allowed and not catalog.problems


def test_narrowing_rows_disable_providers_and_restrict_models(catalog_app):
    add_row(name="local", type=None, enabled=False)
    add_row(name="openai-main", type=None, settings={"allowed_models": ["gpt-4.1-mini"]})
    catalog = tenant_catalog("t1")
    assert catalog.providers["local"].enabled is False
    assert catalog.not_allowed == {"openai-main/gpt-4.1"}
    assert catalog.providers["openai-main"].api_key == "sk-platform"  # platform URL: platform key


def test_a_stored_repricing_on_the_platform_key_fails_closed(catalog_app):
    """A row that no longer builds (here a price override on the platform's key, refused since) leaves the
    provider's models not allowed for the tenant: never the platform provider unnarrowed, never the tenant's price."""
    free = [{"id": "gpt-4.1", "price_per_million": {"input": 0, "output": 0}}]
    add_row(name="openai-main", type=None, models=free, settings={"allowed_models": ["gpt-4.1"]})
    catalog = tenant_catalog("t1")
    assert catalog.not_allowed == {"openai-main/gpt-4.1-mini", "openai-main/gpt-4.1"}
    assert "price_per_million" in catalog.problems[0]
    assert catalog.models["openai-main/gpt-4.1"].price_in_per_million == Decimal("2.00")


def test_tenant_key_on_a_platform_provider_replaces_the_platform_key(catalog_app):
    add_row(name="openai-main", type=None, api_key="sk-tenant")
    provider = tenant_catalog("t1").providers["openai-main"]
    assert provider.api_key == "sk-tenant" and provider.owner == "t1"


def test_platform_key_is_never_sent_to_a_tenant_url(catalog_app):
    add_row(name="openai-main", type=None, base_url="https://gpu.tenant.example/v1")
    provider = tenant_catalog("t1").providers["openai-main"]
    assert provider.base_url == "https://gpu.tenant.example/v1"
    assert provider.api_key is None and provider.owner == "t1"


def test_tenant_provider_on_an_allowed_host_gets_only_its_own_key(catalog_app):
    models = [{"id": "llama-3-8b", "context_window": 8192, "location": "on-prem", "tier": 3}]
    add_row(name="our-gpu", type="selfhosted", base_url="http://gpu.tenant.example:8000/v1", models=models)
    catalog = tenant_catalog("t1")
    provider = catalog.providers["our-gpu"]
    assert provider.api_key is None and provider.owner == "t1"
    llama = catalog.models["our-gpu/llama-3-8b"]
    assert llama.max_output_tokens == 4096 and llama.price_in_per_million == Decimal("1.000000")


def test_tenant_provider_on_a_host_not_allowed_is_left_out(catalog_app):
    models = [{"id": "m", "context_window": 4096}]
    add_row(name="evil", type="selfhosted", base_url="http://169.254.169.254/v1", models=models, api_key="sk-x")
    catalog = tenant_catalog("t1")
    assert "evil" not in catalog.providers
    assert "base_url" in catalog.problems[0] and "ALLOWED_MODEL_HOSTS" in catalog.problems[0]
    assert "169.254.169.254" not in catalog.problems[0] and "sk-x" not in catalog.problems[0]  # logged: no URL


def test_tenant_catalog_is_rebuilt_when_rows_change(catalog_app):
    before = tenant_catalog("t1")
    add_row(name="local", type=None, enabled=False)
    after = tenant_catalog("t1")
    assert before.version != after.version and after.providers["local"].enabled is False


def test_a_stored_widening_of_a_platform_model_is_read_with_the_platform_limits(catalog_app):
    """Saved before widening was refused: the narrower of the tenant's and the platform's values holds, except at the
    tenant's own URL, where the tenant says what its endpoint serves."""
    wide = {"id": "gemma-3-270m", "context_window": 1_000_000, "max_output_tokens": 100_000}
    add_row(name="local", type=None, models=[{**wide, "capabilities": ["streaming", "tools"]}])
    own = {"id": "gpt-4.1", "context_window": 1_000_000, "max_output_tokens": 100_000, "capabilities": []}
    add_row(name="openai-main", type=None, base_url="https://gpu.tenant.example/v1", models=[own])
    catalog = tenant_catalog("t1")
    gemma = catalog.models["local/gemma-3-270m"]
    assert (gemma.context_window, gemma.max_output_tokens, gemma.capabilities) == (8192, 2048, {"streaming"})
    assert catalog.models["openai-main/gpt-4.1"].context_window == 1_000_000 and not catalog.problems
