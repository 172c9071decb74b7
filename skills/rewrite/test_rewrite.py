"""Golden tests of rewrite against a fake model."""

import pytest

from backend.skills.sdk import FakeModel, InvalidInput, assert_document_is_data, load_skill, skill_folder

SKILL = load_skill(skill_folder(__file__))
PASSAGE = "hey team, the meeting moved to 3pm, pls be on time"


@pytest.mark.parametrize("tone", ["formal", "friendly", "concise", "expand"])
def test_each_tone_reaches_the_prompt(tone):
    """The tone is an instruction outside the data boundaries; the passage is spotlighted."""
    model = FakeModel("Dear team, the meeting has moved to 3 pm.")
    SKILL.invoke({"text": PASSAGE, "tone": tone}, model)
    request = model.requests[0]
    assert_document_is_data(request, PASSAGE)
    assert f"Tone: {tone}." in request.messages[1].content


def test_only_the_new_text_is_returned():
    """Preambles, closing offers, quotes and echoed datamarks are removed."""
    answer = (
        "Sure! Here's the rewritten text:\n"
        '"Dear team,ˆthe meeting has moved to 3 pm."\n\n'
        "Let me know if you need more."
    )
    output = SKILL.invoke({"text": PASSAGE, "tone": "formal"}, FakeModel(answer))
    assert output == "Dear team, the meeting has moved to 3 pm."


def test_tone_is_required():
    """Without a tone the input is invalid."""
    with pytest.raises(InvalidInput) as caught:
        SKILL.invoke({"text": PASSAGE}, FakeModel())
    assert {"field": "tone", "message": "is required"} in caught.value.details["fields"]
