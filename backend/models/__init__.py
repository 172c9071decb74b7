"""Every table of Switchboard; importing this package registers them all on `Base.metadata`."""

from backend.database import Base
from backend.models.accounting import BudgetCounter, CircuitState, RateLimitState
from backend.models.audit import AuditEvent
from backend.models.jobs import Job, JobStep
from backend.models.runs import SkillRun
from backend.models.tenancy import Tenant, TenantProvider, TenantSettings, User
from backend.models.token_cache import UserTokenCache

__all__ = [
    "AuditEvent",
    "Base",
    "BudgetCounter",
    "CircuitState",
    "Job",
    "JobStep",
    "RateLimitState",
    "SkillRun",
    "Tenant",
    "TenantProvider",
    "TenantSettings",
    "User",
    "UserTokenCache",
]
