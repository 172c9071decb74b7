"""Discover skills at start: every skills/*/skill.yaml. A broken skill is reported, naming its file and problem,
and the others still load."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from backend.skills.runtime import Skill
from backend.skills.spec import SkillSpecError, parse_spec
from backend.skills.templates import PromptTemplate, parse_prompt

SKILL_FILE = "skill.yaml"
# libyaml's safe loader when compiled in: ten times faster, and skills load at every app start
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SkillLoadError(Exception):
    """One skill that could not be loaded: the file at fault and what is wrong with it."""

    def __init__(self, path: Path, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass
class LoadResult:
    """The skills that loaded, by id, and the errors of those that did not."""

    skills: dict[str, Skill] = field(default_factory=dict)
    errors: list[SkillLoadError] = field(default_factory=list)


def default_skills_dir() -> Path:
    """The repository's skills/ folder, beside the backend package."""
    return Path(__file__).resolve().parents[2] / "skills"


def _read_yaml(path: Path) -> object:
    """Parsed YAML of a file, or a SkillLoadError naming it."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506 - a safe loader
    except OSError as exc:
        raise SkillLoadError(path, f"cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise SkillLoadError(path, f"is not valid YAML: {str(exc).splitlines()[0]}") from None


def _check_prompt(spec_path: Path, prompt: PromptTemplate, known: set[str], spotlighted: set[str]) -> None:
    """Document variables only in user turns; every variable referenced is an input, a computed or declared one."""
    in_system = prompt.variables_in("system")
    leaked = in_system & spotlighted
    if leaked:
        raise SkillLoadError(
            spec_path,
            f"document variables may not appear in the system message: {sorted(leaked)}; move them to a user message",
        )
    used = prompt.variables_used()
    unknown = used - known - set(prompt.input_variables)
    if unknown:
        raise SkillLoadError(
            spec_path,
            f"the prompt uses undeclared variables: {sorted(unknown)}; declare each as an input_schema property in "
            "skill.yaml or, for a value your plugin computes, under input_variables here",
        )


def _check_spotlight(spec_path: Path, spotlight: tuple[str, ...], known: set[str], prompts: dict) -> None:
    """Every spotlight name is an input property or a prompt variable: a misspelt one would leave the document it
    meant unmarked (the injection defence) without a word."""
    variables = set().union(*(p.variables_used() | set(p.input_variables) for p in prompts.values()))
    unknown = [name for name in spotlight if name not in known and name not in variables]
    if unknown:
        raise SkillLoadError(
            spec_path,
            f"'spotlight' names {unknown}, which is neither an input_schema property nor a variable of the prompt: "
            "spell it as the input field (or prompt variable) that holds the document",
        )


def _check_history(spec_path: Path, history_input: str | None, spotlight: tuple[str, ...]) -> None:
    """A conversation skill that receives documents lists its history input under `spotlight`: the assistant's
    earlier answers may quote the document, and would otherwise reach the model unmarked."""
    if history_input and spotlight and history_input not in spotlight:
        raise SkillLoadError(
            spec_path,
            f"'history_input' ({history_input}) is not in 'spotlight': earlier answers may quote the document; add "
            f"{history_input} to spotlight so they are marked as data",
        )


def _check_plugin_source(path: Path, class_name: str) -> None:
    """Catch a plugin's syntax errors and a missing class at start, without importing it (SK's import is slow)."""
    source = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise SkillLoadError(path, f"has a syntax error on line {exc.lineno}: {exc.msg}") from None
    if not any(isinstance(node, ast.ClassDef) and node.name == class_name for node in tree.body):
        raise SkillLoadError(path, f"defines no class '{class_name}'")


def load_skill(folder: Path) -> Skill:
    """Load one skill folder, or raise SkillLoadError naming the file and the problem."""
    spec_path = folder / SKILL_FILE
    try:
        spec = parse_spec(_read_yaml(spec_path), folder)
    except SkillSpecError as exc:
        raise SkillLoadError(spec_path, str(exc)) from None
    if spec.plugin:
        file_name, _, class_name = str(spec.plugin).partition(":")
        if not isinstance(spec.plugin, str) or not class_name or not file_name.endswith(".py"):
            raise SkillLoadError(spec_path, f"'plugin' must be 'FILE.py:ClassName' (got {spec.plugin!r})")
        if not (folder / file_name).is_file():
            raise SkillLoadError(
                spec_path, f"'plugin' names {file_name}, which is not in {folder.name}/: write it, or remove the line"
            )
        _check_plugin_source(folder / file_name, class_name)
    inputs = set(spec.input_schema.get("properties", {}))
    known = inputs | set(spec.spotlight)
    prompts = {}
    for name, file_name in spec.prompt_files.items():
        prompt_path = folder / file_name
        try:
            prompts[name] = parse_prompt(_read_yaml(prompt_path))
        except SkillSpecError as exc:
            raise SkillLoadError(prompt_path, str(exc)) from None
        _check_prompt(prompt_path, prompts[name], known, set(spec.spotlight))
    _check_spotlight(spec_path, spec.spotlight, inputs, prompts)
    _check_history(spec_path, spec.history_input, spec.spotlight)
    return Skill(spec, prompts)


_CACHE: dict[tuple, LoadResult] = {}


def _fingerprint(skills_dir: Path) -> tuple:
    """Every file under skills_dir with its size and modification time: changes when any skill file changes."""
    files = sorted(p for p in skills_dir.glob("*/*") if p.is_file())
    return (str(skills_dir), *((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files))


def discover_cached(skills_dir: Path) -> LoadResult:
    """`discover`, reusing the previous result while no file changed (every app start, and tests, load skills)."""
    key = _fingerprint(skills_dir) if skills_dir.is_dir() else (str(skills_dir),)
    if key not in _CACHE:
        _CACHE.clear()  # keep only the latest layout: one skills folder per process in practice
        _CACHE[key] = discover(skills_dir)
    return _CACHE[key]


def discover(skills_dir: Path) -> LoadResult:
    """Load every folder of skills_dir that holds a skill.yaml, collecting errors instead of stopping."""
    result = LoadResult()
    if not skills_dir.is_dir():
        return result
    for spec_path in sorted(skills_dir.glob(f"*/{SKILL_FILE}")):
        try:
            skill = load_skill(spec_path.parent)
        except SkillLoadError as exc:
            result.errors.append(exc)
            continue
        if skill.spec.id in result.skills:
            result.errors.append(SkillLoadError(spec_path, f"duplicate skill id '{skill.spec.id}'"))
            continue
        result.skills[skill.spec.id] = skill
    return result
