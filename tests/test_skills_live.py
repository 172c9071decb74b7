"""`switchboard skills test --provider`: the skills' examples run on a real provider (a loopback fake OpenAI)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from backend.cli import main
from backend.skills.loader import SkillLoadError, default_skills_dir, discover, load_skill
from backend.skills.scaffold import create_skill
from backend.skills.spotlight import DATAMARK, datamark
from tests.fakes import FakeOpenAI, Fault
from tests.fakes.harness import TEST_KEY

REPLY = "Revenue rose four percent while costs stayed flat."
SUMMARIZE = load_skill(default_skills_dir() / "summarize")


@pytest.fixture
def fake():
    """A loopback OpenAI-style server that checks the API key."""
    with FakeOpenAI(default_reply=REPLY, api_key=TEST_KEY) as server:
        yield server


@pytest.fixture
def operator_env(fake, tmp_path) -> dict[str, str]:
    """The environment of an operator whose providers file names the fake as "cheap" (key from a variable)."""
    providers = tmp_path / "providers.yaml"
    providers.write_text(
        textwrap.dedent(
            f"""
            providers:
              - name: cheap
                type: openai
                base_url: {fake.base_url}
                api_key_env: TEST_LIVE_KEY
                timeouts: {{connect: 1, first_token: 3, total: 10}}
                models:
                  - {{id: gpt-test, context_window: 32000, max_output_tokens: 4096, capabilities: [streaming]}}
                  - {{id: gpt-other, context_window: 32000, max_output_tokens: 4096, capabilities: [streaming]}}
            """
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env.update(
        SWITCHBOARD_PROVIDERS_FILE=str(providers),
        SWITCHBOARD_INSTANCE_PATH=str(tmp_path / "instance"),
        TEST_LIVE_KEY=TEST_KEY,
    )
    return env


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """`switchboard ARGS` in a fresh process, as an operator runs it."""
    command = [sys.executable, "-c", "from backend.cli import main; main()", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)  # noqa: S603


def user_and_system(request) -> tuple[str, str]:
    """The system prompt and the joined user turns of a recorded chat request."""
    messages = request.body["messages"]
    system = "\n".join(m["content"] for m in messages if m["role"] == "system")
    return system, "\n".join(m["content"] for m in messages if m["role"] == "user")


def test_examples_reach_the_provider_spotlighted_and_pass(fake, operator_env):
    """Each example is one real call carrying the example as marked data; ok lines, a summary, exit status 0."""
    completed = run_cli(operator_env, "skills", "test", "summarize", "--provider", "cheap")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    examples = SUMMARIZE.spec.examples
    assert len(fake.requests) == len(examples) == 2
    for example, request in zip(examples, fake.requests, strict=True):
        assert request.body["model"] == "gpt-test"
        document = example.input.get("text") or example.input["document"]
        system, user = user_and_system(request)
        assert datamark(document) in user and DATAMARK in user
        assert document[:40] not in system
        line = next(ln for ln in completed.stdout.splitlines() if ln.startswith(f"summarize/{example.name} "))
        assert " ok " in line and REPLY[:30] in line and "tokens" in line
    assert "running examples on cheap/gpt-test" in completed.stdout
    assert "examples: 2 ok, 0 failed" in completed.stdout
    assert TEST_KEY not in completed.stdout + completed.stderr
    assert "HTTP Request" not in completed.stderr and "usage" not in completed.stderr  # no per-call log lines


def test_provider_failure_fails_the_command_with_its_kind(fake, operator_env):
    """A 500 from the provider is reported as kind "server" per example, and the exit status is 1."""
    fake.fail_next(10, Fault.server_error())
    completed = run_cli(operator_env, "skills", "test", "summarize", "--provider", "cheap", "--model", "gpt-other")
    assert completed.returncode == 1, completed.stdout + completed.stderr
    failed = [ln for ln in completed.stdout.splitlines() if " FAILED " in ln]
    assert len(failed) == 2 and all("server:" in ln for ln in failed)
    assert "examples: 0 ok, 2 failed" in completed.stdout
    assert {r.body["model"] for r in fake.requests} == {"gpt-other"}
    assert "Traceback" not in completed.stderr


def test_invalid_structured_answer_is_repaired_once_then_reported(fake, operator_env, monkeypatch):
    """proofread needs JSON: a prose answer gets one repair request, then invalid_model_output and exit status 1."""
    for key, value in operator_env.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(main, ["skills", "test", "proofread", "--provider", "cheap"])
    assert result.exit_code == 1, result.output
    assert len(fake.requests) == 2  # the call and its one repair
    line = next(ln for ln in result.output.splitlines() if ln.startswith("proofread/typos_and_grammar "))
    assert "FAILED" in line and "invalid_model_output" in line


def test_valid_structured_answer_is_ok_and_long_running_skills_are_skipped(fake, operator_env, monkeypatch):
    """A JSON answer matching the schema passes; a long-running skill is skipped with its note, not failed."""
    for key, value in operator_env.items():
        monkeypatch.setenv(key, value)
    fake.script(reply='{"edits": [{"original": "Their", "replacement": "There", "reason": "wrong word"}]}')
    result = CliRunner().invoke(main, ["skills", "test", "proofread", "--provider", "cheap"])
    assert result.exit_code == 0, result.output
    assert '"replacement": "There"' in result.output
    skipped = CliRunner().invoke(main, ["skills", "test", "summarize_document", "--provider", "cheap"])
    assert skipped.exit_code == 0, skipped.output
    assert "skipped: long-running" in skipped.output and len(fake.requests) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["summarize", "--provider", "nope"], "unknown provider 'nope' (the catalog has: cheap)"),
        (["summarize", "--provider", "cheap", "--model", "gpt-9"], "has no model 'gpt-9'"),
        (["summarize", "--model", "gpt-test"], "--model needs --provider"),
    ],
)
def test_bad_provider_or_model_is_a_clean_cli_error(fake, operator_env, monkeypatch, args, message):
    """A name the catalog does not have fails at once with what it does have, and nothing reaches the provider."""
    for key, value in operator_env.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(main, ["skills", "test", *args])
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert fake.requests == []


def test_every_built_in_example_matches_its_skill_input_schema():
    """All 14 skills load with at least one example each, and every example validates against its input schema."""
    result = discover(default_skills_dir())
    assert result.errors == [] and len(result.skills) == 14
    for skill in result.skills.values():
        assert skill.spec.examples, f"{skill.spec.id} has no examples"
        validator = Draft202012Validator(skill.spec.input_schema)
        for example in skill.spec.examples:
            assert list(validator.iter_errors(example.input)) == [], f"{skill.spec.id}/{example.name}"
            if not skill.spec.long_running:
                skill.check_input(example.input)  # within the size limit too


@pytest.mark.parametrize(
    ("examples", "problem"),
    [
        ("  - {name: empty, input: {instructions: hi}}\n", "'examples[0]' (empty) does not match input_schema"),
        ("  - {name: a, input: {text: x}}\n  - {name: a, input: {text: y}}\n", "'examples[1].name' must be"),
        ("  - {name: dated, input: {text: 2024-01-05}}\n", "must be plain JSON values"),
        ("  - {input: {text: x}}\n", "exactly 'name' and 'input'"),
    ],
)
def test_a_bad_example_is_a_load_error_naming_the_file(tmp_path, examples, problem):
    """An example the schema refuses (or a malformed entry) stops the skill from loading, naming skill.yaml."""
    folder = create_skill(tmp_path, "notes", "word", "prompt")
    assert [e.name for e in load_skill(folder).spec.examples] == ["sample"]  # the scaffold's own example loads
    spec_file = folder / "skill.yaml"
    head = spec_file.read_text().split("examples:\n")[0]
    spec_file.write_text(head + "examples:\n" + examples)
    with pytest.raises(SkillLoadError) as caught:
        load_skill(folder)
    assert caught.value.path == spec_file and problem in caught.value.problem
