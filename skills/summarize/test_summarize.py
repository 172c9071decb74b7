"""Golden tests of summarize against a fake model."""

import pytest

from backend.skills.sdk import FakeModel, InvalidInput, assert_document_is_data, load_skill, skill_folder

SKILL = load_skill(skill_folder(__file__))
SELECTION = "Revenue grew 12% in Q3.\nCosts fell by 3 million."


def test_prompt_structure_and_output():
    """Selection and document are spotlighted in the user turn; the length option reaches the prompt."""
    model = FakeModel("Certainly! Here is the summary:\nRevenue grew 12% while costs fell.")
    output = SKILL.invoke({"text": SELECTION, "document": "Annual report. " + SELECTION, "length": "short"}, model)
    request = model.requests[0]
    assert [m.role for m in request.messages] == ["system", "user"]
    assert_document_is_data(request, [SELECTION, "Annual report. " + SELECTION])
    assert "Length: short." in request.messages[1].content
    assert output == "Revenue grew 12% while costs fell."


def test_length_defaults_to_medium_and_missing_document_is_marked_empty():
    """Schema defaults fill unset options; an absent document renders as (none), not as an empty boundary."""
    model = FakeModel("Summary.")
    SKILL.invoke({"text": SELECTION}, model)
    user = model.requests[0].messages[1].content
    assert "Length: medium." in user
    assert "for the selection):\n(none)" in user


def test_whole_document_without_selection():
    """Selection or document: either alone is valid; neither is a 422."""
    model = FakeModel("The report in brief.")
    assert SKILL.invoke({"document": "Annual report. Revenue grew."}, model) == "The report in brief."
    assert "Selected text:\n(none)" in model.requests[0].messages[1].content
    with pytest.raises(InvalidInput):
        SKILL.invoke({"length": "short"}, FakeModel())


def test_unknown_length_is_rejected_with_the_field():
    """A length outside the enum fails validation naming the field."""
    with pytest.raises(InvalidInput) as caught:
        SKILL.invoke({"text": SELECTION, "length": "epic"}, FakeModel())
    assert caught.value.details["fields"] == [
        {"field": "length", "message": 'must be one of "short", "medium", "long"'}
    ]
