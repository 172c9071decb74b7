"""Every table of Switchboard; importing this package registers them all on `Base.metadata`."""

from backend.database import Base
from backend.models.audit import AuditEvent
from backend.models.jobs import Job
from backend.models.runs import SkillRun
from backend.models.tenancy import Tenant, TenantProvider, TenantSettings, User

__all__ = ["AuditEvent", "Base", "Job", "SkillRun", "Tenant", "TenantProvider", "TenantSettings", "User"]
