"""Tenant isolation in one place: ORM statements are scoped to the bound tenant, foreign rows cannot be written."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete, func, select, update

from backend.errors import ApiError
from backend.extensions import db
from backend.models import Job, SkillRun, Tenant, User
from backend.tenancy import (
    TenantScopeViolation,
    current_tenant_scope,
    get_owned_or_404,
    tenant_models,
    tenant_scope,
    unscoped,
)

TENANT_A = "aaaaaaaa-0000-4000-8000-00000000000a"
TENANT_B = "bbbbbbbb-0000-4000-8000-00000000000b"


@pytest.fixture
def app_config(app_config, each_backend_url) -> dict:
    """Every test here runs on SQLite and on PostgreSQL."""
    return {**app_config, "DATABASE_URL": each_backend_url}


@pytest.fixture
def seeded(app):
    """Two tenants, one user and two jobs each; yields {tenant: (user_id, [job ids])} inside an app context."""
    with app.app_context():
        rows = {}
        for tenant_id in (TENANT_A, TENANT_B):
            db.session.add(Tenant(id=tenant_id, name=tenant_id[:4]))
            user = User(tenant_id=tenant_id, object_id=str(uuid.uuid4()))
            db.session.add(user)
            db.session.flush()
            jobs = [Job(tenant_id=tenant_id, user_id=user.id, skill_id="s") for _ in range(2)]
            db.session.add_all(jobs)
            db.session.flush()
            db.session.add(SkillRun(tenant_id=tenant_id, user_id=user.id, skill_id="s", job_id=jobs[0].id))
            rows[tenant_id] = (user.id, [j.id for j in jobs])
        db.session.commit()
        db.session.expunge_all()  # later loads must go to the database, not the identity map
        yield rows


def test_every_model_with_tenant_id_is_scoped(seeded):
    """The scoped set is derived from the models, so a new tenant table is covered without registration."""
    names = {model.__name__ for model in tenant_models()}
    assert {"Job", "SkillRun", "User", "AuditEvent", "TenantProvider", "UserTokenCache"} <= names
    assert "Tenant" not in names


def test_selects_see_only_the_bound_tenant(seeded):
    """A query with no tenant filter returns only the bound tenant's rows, also through joins and aggregates."""
    assert db.session.scalar(select(func.count()).select_from(Job)) == 4
    with tenant_scope(TENANT_A):
        assert current_tenant_scope() == TENANT_A
        jobs = db.session.execute(select(Job)).scalars().all()
        assert {j.tenant_id for j in jobs} == {TENANT_A} and len(jobs) == 2
        joined = db.session.execute(select(SkillRun, Job).join(Job, SkillRun.job_id == Job.id)).all()
        assert len(joined) == 1 and joined[0][1].tenant_id == TENANT_A
        assert db.session.get(Job, seeded[TENANT_B][1][0]) is None
        assert db.session.query(User).count() == 1
    assert current_tenant_scope() is None


def test_bulk_update_and_delete_touch_only_the_bound_tenant(seeded):
    """ORM UPDATE and DELETE without a tenant filter change only the bound tenant's rows."""
    with tenant_scope(TENANT_B):
        db.session.execute(update(Job).values(status="cancelled"))
        db.session.execute(delete(SkillRun))
        db.session.commit()
    statuses = dict(db.session.execute(select(Job.tenant_id, Job.status).distinct()).all())
    assert statuses == {TENANT_A: "queued", TENANT_B: "cancelled"}
    assert db.session.scalar(select(func.count()).select_from(SkillRun)) == 1


def test_get_owned_or_404(seeded):
    """Another tenant's row, or another user's row when ownership is asked for, is a 404."""
    user_a, jobs_a = seeded[TENANT_A]
    with tenant_scope(TENANT_A):
        assert get_owned_or_404(Job, jobs_a[0]).id == jobs_a[0]
        assert get_owned_or_404(Job, jobs_a[0], owner_user_id=user_a).id == jobs_a[0]
        with pytest.raises(ApiError) as foreign:
            get_owned_or_404(Job, seeded[TENANT_B][1][0])
        assert foreign.value.status == 404
        with pytest.raises(ApiError):
            get_owned_or_404(Job, jobs_a[0], owner_user_id="someone-else")
    with pytest.raises(RuntimeError):
        get_owned_or_404(Job, jobs_a[0])  # without a scope it refuses rather than guessing


def test_writing_a_foreign_row_is_refused(seeded):
    """Inserting a row of another tenant inside a scope fails at flush."""
    user_b, _ = seeded[TENANT_B]
    with tenant_scope(TENANT_A):
        db.session.add(Job(tenant_id=TENANT_B, user_id=user_b, skill_id="s"))
        with pytest.raises(TenantScopeViolation):
            db.session.flush()
        db.session.rollback()


def test_unscoped_lifts_the_scope_deliberately(seeded):
    """Operators' cross-tenant work says so explicitly."""
    with tenant_scope(TENANT_A):
        with unscoped():
            assert db.session.scalar(select(func.count()).select_from(Job)) == 4
        assert db.session.scalar(select(func.count()).select_from(Job)) == 2


def test_switching_scopes_never_reuses_the_previous_tenant(seeded):
    """The criteria's tenant is a bound parameter of the cached statement, not a value frozen into the cache."""
    statement = select(Job.tenant_id)
    for tenant_id in (TENANT_A, TENANT_B, TENANT_A):
        with tenant_scope(tenant_id):
            assert set(db.session.execute(statement).scalars()) == {tenant_id}
