"""Shared accounting state: budget counters, rate-limit states and circuit breakers (when Redis is not configured).

Every counter is changed only by atomic conditional UPDATEs (backend/metering, backend/routing/circuit.py), never by
read-modify-write, so they hold across threads, processes and replicas. Money is kept in integer micro-dollars:
exact, and cheap to add atomically on every database.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.database import Base


class BudgetCounter(Base):
    """Spend and outstanding reservations of one tenant (user_id "") or one user in one calendar month."""

    __tablename__ = "budget_counters"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # "" for the tenant-wide counter
    period: Mapped[str] = mapped_column(String(7), primary_key=True)  # "YYYY-MM", UTC
    spent_micros: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    # Reservations of calls in progress, in two slots by time window (backend/metering/budget_statements.py).
    reserved_0_micros: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    reserved_0_window: Mapped[int] = mapped_column(BigInteger, nullable=False, default=-1)
    reserved_1_micros: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    reserved_1_window: Mapped[int] = mapped_column(BigInteger, nullable=False, default=-1)


class RateLimitState(Base):
    """One rate limit (requests or tokens of a user or tenant): when all it admitted is paid back (GCRA's TAT)."""

    __tablename__ = "rate_limit_states"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    tat: Mapped[float] = mapped_column(Float, nullable=False)  # epoch seconds


class CircuitState(Base):
    """The circuit breaker of one model ref: consecutive failures, open until when, and the half-open probe."""

    __tablename__ = "circuit_states"

    ref: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    open_until: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)  # epoch seconds
    tripped: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # opened and not yet recovered
    probe_until: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)  # a probe holds it until then
