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
        "Let me know if you need more changes."
    )
    output = SKILL.invoke({"text": PASSAGE, "tone": "formal"}, FakeModel(answer))
    assert output == "Dear team, the meeting has moved to 3 pm."


def test_without_a_tone_the_users_wishes_decide():
    """The task pane has no tone picker: the user's instructions say what to change, else the text gets clearer."""
    model = FakeModel("Team, the meeting has moved to 3 pm. Please be on time.")
    SKILL.invoke({"text": PASSAGE, "instructions": "fix the spelling"}, model)
    user = model.requests[0].messages[1].content
    assert "Tone: none chosen (follow the user's extra wishes" in user and "fix the spelling" in user
    assert_document_is_data(model.requests[0], PASSAGE)


def test_an_unknown_tone_is_refused():
    """A tone outside the list fails validation naming the field."""
    with pytest.raises(InvalidInput) as caught:
        SKILL.invoke({"text": PASSAGE, "tone": "sarcastic"}, FakeModel())
    assert [f["field"] for f in caught.value.details["fields"]] == ["tone"]
