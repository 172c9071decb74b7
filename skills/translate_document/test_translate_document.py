"""translate_document: a long-running skill whose per-part prompt wraps the part as data."""

from backend.skills.sdk import assert_document_is_data, load_skill, skill_folder

SKILL = load_skill(skill_folder(__file__))


def test_part_request_and_output():
    """The part is data, the language an instruction, and the answer only the translation."""
    assert SKILL.spec.long_running is True
    part = "Good morning. The offices close at five."
    request = SKILL.build_request({"document": "whole", "part": part, "target_language": "German"})
    assert_document_is_data(request, part)
    assert "into German." in request.messages[1].content
    output = SKILL.parse_output("Sure! Here is the translation:\nGuten Morgen.", {"document": "whole"})
    assert output == "Guten Morgen."
