"""summarize_document: a long-running skill; its map and reduce prompts wrap document parts as data."""

from backend.skills.sdk import FakeModel, assert_document_is_data, load_skill, skill_folder

SKILL = load_skill(skill_folder(__file__))


def test_spec_is_jobs_only():
    """The skill is long-running and accepts documents far beyond a direct call."""
    assert SKILL.spec.long_running is True
    assert SKILL.spec.max_input_chars >= 1_000_000
    assert set(SKILL.prompts) == {"default", "reduce"}


def test_map_and_reduce_requests():
    """A part is summarized as data; the part summaries are combined as data too."""
    part = "Chapter one. The ship left port."
    request = SKILL.build_request({"document": "whole", "part": part}, prompt="default")
    assert_document_is_data(request, part)
    summaries = "1. The ship left port.\n2. It reached the island."
    request = SKILL.build_request({"document": "whole", "summaries": summaries, "length": "short"}, prompt="reduce")
    assert_document_is_data(request, summaries)
    assert "Length: short." in request.messages[1].content
    assert SKILL.parse_output("Here is the summary:\nA voyage.", {"document": "whole"}) == "A voyage."
    assert FakeModel("x")(request) == "x"
