"""Skill discovery: the built-in set, clear errors for broken skills, and the app registry."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from backend import skills as skills_runtime
from backend.skills.loader import default_skills_dir, discover, load_skill
from backend.skills.scaffold import create_skill

BUILT_IN = {
    "word": {"summarize", "rewrite", "proofread", "translate", "draft", "ask"},
    "excel": {"explain_formula", "write_formula", "analyze_range", "clean_data", "text_to_table"},
    "jobs": {"summarize_document", "translate_document", "analyze_workbook"},
}


def test_built_in_skills_load_with_exactly_the_contract_ids():
    """All fourteen built-in skills load, without errors, with the ids API.md names."""
    result = discover(default_skills_dir())
    assert result.errors == []
    assert set(result.skills) == set().union(*BUILT_IN.values())
    jobs = {skill_id for skill_id, skill in result.skills.items() if skill.spec.long_running}
    assert jobs == BUILT_IN["jobs"]
    for host in ("word", "excel"):
        direct = {i for i, s in result.skills.items() if host in s.spec.hosts and not s.spec.long_running}
        assert direct == BUILT_IN[host]


def test_public_description_has_the_contract_fields():
    """GET /api/skills lists exactly these keys per skill."""
    skill = discover(default_skills_dir()).skills["proofread"]
    assert skill.spec.public() == {
        "id": "proofread",
        "name": "Proofread",
        "description": skill.spec.description,
        "hosts": ["word"],
        "input_schema": skill.spec.input_schema,
        "output": "edits",
        "streaming": False,
        "long_running": False,
    }


def _edit(path: Path, old: str, new: str) -> None:
    """Replace text in a file (the test breaks a good skill on purpose)."""
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


BREAKAGES = [
    ("skill.yaml", "name: Broken\n", "name: [unclosed\n", "skill.yaml", "is not valid YAML"),
    ("skill.yaml", "name: Broken\n", "", "skill.yaml", "missing required key 'name'"),
    ("skill.yaml", "output: text", "output: html", "skill.yaml", "'output' must be one of text, json, edits, table"),
    ("skill.yaml", "hosts: [word]", "hosts: [outlook]", "skill.yaml", "'hosts' must be one of word, excel"),
    ("skill.yaml", "type: object", "type: objekt", "skill.yaml", "'input_schema' is not a valid JSON Schema"),
    ("skill.yaml", "capabilities: [streaming]", "capabilities: [telepathy]", "skill.yaml", "unknown names: telepathy"),
    ("skill.yaml", "id: broken", "id: other", "skill.yaml", "must equal the folder name"),
    ("skill.yaml", "prompt: prompt.yaml", "prompt: missing.yaml", "missing.yaml", "cannot be read"),
    ("skill.yaml", "prompt: prompt.yaml", "prompt: prompt.yaml\nplugin: plugin.py", "skill.yaml", "'plugin' must be"),
    ("skill.yaml", "prompt: prompt.yaml", "prompt: prompt.yaml\nplugin: 5", "skill.yaml", "'plugin' must be"),
    (
        "skill.yaml",
        "prompt: prompt.yaml",
        "prompt: prompt.yaml\nplugin: nope.py:X",
        "skill.yaml",
        "'plugin' names nope.py, which is not in broken/: write it, or remove the line",
    ),
    (
        "skill.yaml",
        "spotlight: [text]",
        "spotlight: [txt]",
        "skill.yaml",
        "'spotlight' names ['txt'], which is neither",
    ),
    (
        "prompt.yaml",
        "Extra wishes",
        "{{$secret}} wishes",
        "prompt.yaml",
        "undeclared variables: ['secret']; declare each as an input_schema property in skill.yaml or,",
    ),
    ("prompt.yaml", "{{$instructions}}", "{{plugin.fn}}", "prompt.yaml", "unsupported template block"),
    ("prompt.yaml", "semantic-kernel", "handlebars", "prompt.yaml", "template_format must be 'semantic-kernel'"),
    ("prompt.yaml", "content. Say", "content {{$text}}. Say", "prompt.yaml", "system message: ['text']; move them to"),
    ("prompt.yaml", '<message role="system">', '<message role="root">', "prompt.yaml", "unknown message role"),
]


@pytest.mark.parametrize(("file", "old", "new", "blamed", "problem"), BREAKAGES)
def test_a_broken_skill_names_file_and_problem_and_the_others_load(tmp_path, file, old, new, blamed, problem):
    """Each kind of mistake is reported once, against the right file; a healthy sibling still loads."""
    create_skill(tmp_path, "healthy", "word", "prompt")
    broken = create_skill(tmp_path, "broken", "word", "prompt")
    _edit(broken / file, old, new)
    result = discover(tmp_path)
    assert list(result.skills) == ["healthy"]
    assert len(result.errors) == 1
    error = result.errors[0]
    assert error.path == broken / blamed
    assert problem in str(error) and str(error).startswith(str(broken / blamed))


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("class Other:\n    pass\n", "defines no class 'BrokenPlugin'"),
        ("def broken(:\n", "has a syntax error on line 1: invalid syntax"),
    ],
)
def test_a_broken_plugin_is_reported_at_start_without_importing_it(tmp_path, source, problem):
    """The plugin file is parsed, not imported, at load: syntax errors and a missing class name the file."""
    folder = create_skill(tmp_path, "broken", "word", "native")
    (folder / "plugin.py").write_text(source)
    result = discover(tmp_path)
    assert result.skills == {}
    assert str(result.errors[0]) == f"{folder / 'plugin.py'}: {problem}"


def test_scaffolded_skill_loads(tmp_path):
    """A new skill from the scaffold is valid as written."""
    for host in ("word", "excel"):
        for kind in ("prompt", "native"):
            skill = load_skill(create_skill(tmp_path, f"s_{host}_{kind}", host, kind))
            assert skill.spec.hosts == (host,)


def test_excel_scaffold_declares_the_range_as_the_task_pane_sends_it(tmp_path):
    """address, values, formulas (docs/skills.md: the prompt shows the formula cells), number formats, date system."""
    skill = load_skill(create_skill(tmp_path, "sheet", "excel", "prompt"))
    declared = skill.spec.input_schema["properties"]["range"]["properties"]
    assert set(declared) == {"address", "values", "formulas", "number_formats", "date_system"}


def test_init_app_keeps_the_registry_and_logs_broken_skills(tmp_path, caplog):
    """create_app-time loading: good skills in app.extensions, each broken one logged with its file."""
    from flask import Flask

    create_skill(tmp_path / "skills", "good_one", "excel", "prompt")
    bad = create_skill(tmp_path / "skills", "bad_one", "word", "prompt")
    (bad / "prompt.yaml").write_text("template: 3")
    app = Flask(__name__)
    app.config["SKILLS_DIR"] = str(tmp_path / "skills")
    with caplog.at_level(logging.ERROR, logger="backend.skills"):
        skills_runtime.init_app(app)
    with app.app_context():
        registry = skills_runtime.current_skills()
        assert registry.get("good_one") is not None and registry.get("bad_one") is None
        assert [s.spec.id for s in registry.for_host("excel")] == ["good_one"]
        assert registry.for_host("word") == []
    assert any(str(bad / "prompt.yaml") in record.getMessage() for record in caplog.records)


def test_default_registry_holds_the_built_ins():
    """Without SKILLS_DIR the repository's skills/ folder is used."""
    from flask import Flask

    app = Flask(__name__)
    skills_runtime.init_app(app)
    registry = app.extensions["skills"]
    assert registry.errors == [] and len(registry.skills) == 14
    assert [s.spec.id for s in registry.for_host("excel")][:2] == ["analyze_range", "analyze_workbook"]


def test_create_app_loads_the_skills(app):
    """The app factory keeps the registry in app.extensions["skills"]."""
    with app.app_context():
        assert skills_runtime.current_skills().get("summarize").spec.streaming is True


def test_cached_discovery_notices_changed_files(tmp_path):
    """The same folder loads once; editing a file loads it again."""
    from backend.skills.loader import discover_cached

    create_skill(tmp_path, "cached", "word", "prompt")
    first = discover_cached(tmp_path)
    assert discover_cached(tmp_path) is first
    spec_path = tmp_path / "cached" / "skill.yaml"
    spec_path.write_text(spec_path.read_text().replace("name: Cached", "name: Renamed") + "\n")
    second = discover_cached(tmp_path)
    assert second is not first and second.skills["cached"].spec.name == "Renamed"


@pytest.mark.parametrize("path", sorted(Path(__file__).parent.parent.glob("skills/*/*.yaml")), ids=str)
def test_every_bundled_skill_file_is_yaml_without_libyaml(path):
    """The loader uses libyaml's parser when PyYAML was built with it, which accepts some text the pure-Python parser
    refuses (a `?` in a flow mapping's plain value): a machine without libyaml must load the same skills."""
    import yaml

    assert isinstance(yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader), dict)
