"""The schema's own guarantees, on SQLite and PostgreSQL: identity, idempotency, JSON documents, tenant deletion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import DateTime, func, select
from sqlalchemy.exc import IntegrityError

from backend import create_app
from backend.database import Base
from backend.extensions import db
from backend.models import AuditEvent, Job, SkillRun, Tenant, TenantProvider, TenantSettings, User
from backend.models.columns import UTCDateTime


@pytest.fixture
def backend_app(app_config, each_backend_url):
    """An app with its schema, once on SQLite and once on PostgreSQL."""
    app = create_app({**app_config, "DATABASE_URL": each_backend_url})
    with app.app_context():
        Base.metadata.create_all(db.engine)
        yield app
        db.session.rollback()
        db.engine.dispose()


def add_tenant(tenant_id: str) -> Tenant:
    """A committed tenant."""
    tenant = Tenant(id=tenant_id, name=f"Tenant {tenant_id}")
    db.session.add(tenant)
    db.session.commit()
    return tenant


def add_user(tenant_id: str, object_id: str) -> User:
    """A committed user."""
    user = User(tenant_id=tenant_id, object_id=object_id)
    db.session.add(user)
    db.session.commit()
    return user


def test_same_object_id_in_two_tenants_is_two_users(backend_app):
    """Identity is (tenant, object id): one object id in two tenants is two users."""
    add_tenant("tid-a")
    add_tenant("tid-b")
    first, second = add_user("tid-a", "oid-1"), add_user("tid-b", "oid-1")
    assert first.id != second.id
    assert db.session.scalar(select(func.count()).select_from(User).where(User.object_id == "oid-1")) == 2


def test_same_object_id_twice_in_one_tenant_fails(backend_app):
    """The same (tenant, object id) cannot be stored twice."""
    add_tenant("tid-a")
    add_user("tid-a", "oid-1")
    db.session.add(User(tenant_id="tid-a", object_id="oid-1"))
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_job_idempotency_key_is_unique_per_user(backend_app):
    """An idempotency key names one job per user; jobs without a key never collide."""
    add_tenant("tid-a")
    alice, bob = add_user("tid-a", "oid-alice"), add_user("tid-a", "oid-bob")
    for user in (alice, bob):  # the same key from two users is two jobs
        db.session.add(Job(tenant_id="tid-a", user_id=user.id, skill_id="summarize", idempotency_key="k-1"))
    for _ in range(2):  # jobs without a key never collide
        db.session.add(Job(tenant_id="tid-a", user_id=alice.id, skill_id="summarize", idempotency_key=None))
    db.session.commit()
    db.session.add(Job(tenant_id="tid-a", user_id=alice.id, skill_id="translate", idempotency_key="k-1"))
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_json_documents_round_trip(backend_app):
    """Nested JSON documents come back equal, unicode and nulls included."""
    add_tenant("tid-a")
    user = add_user("tid-a", "oid-1")
    routing = {"mode": "pinned", "pins": {"summarize": "selfhosted/gemma"}, "weights": [0.5, 1, None, True]}
    data_policy = {"confidential": {"providers": ["selfhosted"], "note": "données sensibles ✓"}}
    output = [{"chunk": 1, "text": "ünïcødé"}, {"chunk": 2, "nested": {"deep": [[], {}]}}]
    db.session.add(
        TenantSettings(
            tenant_id="tid-a",
            routing=routing,
            data_policy=data_policy,
            budgets={},
            rate_limits={},
            disabled_skills=["x"],
        )
    )
    job = Job(tenant_id="tid-a", user_id=user.id, skill_id="summarize", options={"lang": "fr"}, output=output)
    db.session.add(job)
    db.session.commit()
    db.session.expire_all()  # read back from the database, not from the identity map
    settings = db.session.get(TenantSettings, "tid-a")
    assert (settings.routing, settings.data_policy, settings.disabled_skills) == (routing, data_policy, ["x"])
    reloaded = db.session.get(Job, job.id)
    assert (reloaded.options, reloaded.output, reloaded.error) == ({"lang": "fr"}, output, None)


def test_money_and_time_round_trip(backend_app):
    """Costs keep their six decimals and timestamps come back aware, in UTC."""
    add_tenant("tid-a")
    user = add_user("tid-a", "oid-1")
    run = SkillRun(tenant_id="tid-a", user_id=user.id, skill_id="summarize", cost_usd=Decimal("0.000123"))
    db.session.add(run)
    db.session.commit()
    db.session.expire_all()
    reloaded = db.session.get(SkillRun, run.id)
    assert reloaded.cost_usd == Decimal("0.000123")
    # Aware and in UTC on every backend, so comparisons with utcnow() work everywhere.
    assert reloaded.created_at.utcoffset() == timedelta(0)
    assert datetime.now(UTC) - reloaded.created_at < timedelta(minutes=5)


def test_non_utc_times_are_stored_as_the_same_instant(backend_app):
    """A time with another offset is stored as the same instant, not the same wall clock."""
    paris_noon = datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    tenant = Tenant(id="tid-a", name="A", created_at=paris_noon)
    db.session.add(tenant)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Tenant, "tid-a").created_at == datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def tenant_row_counts(tenant_id: str) -> dict[str, int]:
    """How many rows of each tenant-owned table belong to a tenant."""
    models = (User, Job, SkillRun, TenantSettings, TenantProvider, AuditEvent)
    return {
        model.__tablename__: db.session.scalar(
            select(func.count()).select_from(model).where(model.tenant_id == tenant_id)
        )
        for model in models
    }


def fill_tenant(tenant_id: str) -> None:
    """One row in every tenant-owned table."""
    add_tenant(tenant_id)
    user = add_user(tenant_id, "oid-1")
    job = Job(tenant_id=tenant_id, user_id=user.id, skill_id="summarize")
    db.session.add(job)
    db.session.flush()
    db.session.add_all(
        [
            SkillRun(tenant_id=tenant_id, user_id=user.id, skill_id="summarize", job_id=job.id),
            TenantSettings(tenant_id=tenant_id, routing={}, data_policy={}, budgets={}, rate_limits={}),
            TenantProvider(tenant_id=tenant_id, name="openai", type="openai", api_key_encrypted="ciphertext"),
            AuditEvent(tenant_id=tenant_id, actor="operator:cli", action="tenant.create"),
        ]
    )
    db.session.commit()


def test_deleting_a_tenant_deletes_its_rows_only(backend_app):
    """Deleting a tenant removes its rows in every table and leaves other tenants alone."""
    fill_tenant("tid-gone")
    fill_tenant("tid-kept")
    db.session.delete(db.session.get(Tenant, "tid-gone"))
    db.session.commit()
    assert set(tenant_row_counts("tid-gone").values()) == {0}
    assert set(tenant_row_counts("tid-kept").values()) == {1}


def test_deleting_a_job_keeps_its_metering(backend_app):
    """A deleted job's skill runs stay, for usage and cost, with job_id set to NULL."""
    fill_tenant("tid-a")
    db.session.delete(db.session.scalars(select(Job)).one())
    db.session.commit()
    run = db.session.scalars(select(SkillRun)).one()
    db.session.refresh(run)
    assert run.job_id is None


def test_every_foreign_key_to_tenants_cascades():
    """Deleting a tenant must never fail or orphan rows, whichever tables are added later."""
    to_tenants = [
        f"{fk.parent.table.name}.{fk.parent.name}"
        for table in Base.metadata.tables.values()
        for fk in table.foreign_keys
        if fk.column.table.name == "tenants" and fk.ondelete != "CASCADE"
    ]
    assert to_tenants == []


def test_every_timestamp_column_reads_back_aware():
    """SQLite drops the offset of DateTime(timezone=True); only UTCDateTime gives aware values on every backend."""
    naive_on_sqlite = [
        f"{table.name}.{column.name}"
        for table in Base.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, DateTime) and not isinstance(column.type, UTCDateTime)
    ]
    assert naive_on_sqlite == [], "declare these columns with backend.models.columns.UTCDateTime()"
