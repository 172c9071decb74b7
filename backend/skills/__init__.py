"""The skills runtime: skills are discovered at start and kept in `app.extensions["skills"]`."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, current_app

from backend.skills.loader import LoadResult, default_skills_dir, discover_cached
from backend.skills.runtime import Skill

log = logging.getLogger(__name__)
EXTENSION_KEY = "skills"


class SkillRegistry:
    """The skills that loaded (by id) and the load errors of those that did not."""

    def __init__(self, result: LoadResult):
        self.skills = result.skills
        self.errors = result.errors

    def get(self, skill_id: str) -> Skill | None:
        """The skill with this id, or None."""
        return self.skills.get(skill_id)

    def for_host(self, host: str | None = None) -> list[Skill]:
        """Skills, sorted by id, optionally only those for one host (word or excel)."""
        return [s for _, s in sorted(self.skills.items()) if host is None or host in s.spec.hosts]


def init_app(app: Flask) -> None:
    """Load every skill under SKILLS_DIR (default: the repository's skills/) and log each broken one."""
    skills_dir = Path(app.config.get("SKILLS_DIR") or default_skills_dir())
    registry = SkillRegistry(discover_cached(skills_dir))
    for error in registry.errors:
        log.error("skill not loaded: %s", error, extra={"skill_file": str(error.path)})
    app.extensions[EXTENSION_KEY] = registry


def current_skills() -> SkillRegistry:
    """The registry of the current app."""
    return current_app.extensions[EXTENSION_KEY]
