"""Golden tests of explain_formula: the parsed structure is given to the model and returned with its explanation."""

from backend.skills.sdk import FakeModel, assert_document_is_data, load_skill, skill_folder

SKILL = load_skill(skill_folder(__file__))
FORMULA = '=IF(SUM(Sheet2!B2:B10)>100,"High","Low")'


def test_structure_goes_to_the_model_and_comes_back():
    """The user turn carries the spotlighted formula and its tree; the output pairs the tree with the text."""
    model = FakeModel("It adds B2:B10 on Sheet2 and says High when the total is over 100, else Low.")
    output = SKILL.invoke({"formula": FORMULA}, model)
    request = model.requests[0]
    assert_document_is_data(request, FORMULA)
    assert '"name":ˆ"SUM"' in request.messages[1].content  # the JSON tree, datamarked like all document data
    assert output["structure"]["name"] == "IF"
    assert output["structure"]["args"][0]["left"]["args"][0] == {
        "type": "reference",
        "sheet": "Sheet2",
        "ref": "B2:B10",
    }
    assert output["summary"] == {"functions": ["IF", "SUM"], "references": ["Sheet2!B2:B10"], "names": []}
    assert output["syntax_error"] is None
    assert output["explanation"].startswith("It adds B2:B10")


def test_formula_taken_from_the_range():
    """Without a formula field, the first formula of the selected range is explained."""
    data = {"range": {"address": "Sheet1!C1", "values": [[6]], "formulas": [["=A1*B1"]]}}
    output = SKILL.invoke(data, FakeModel("Multiplies A1 by B1."))
    assert output["formula"] == "=A1*B1"
    assert output["structure"] == {
        "type": "binary",
        "op": "*",
        "left": {"type": "reference", "sheet": None, "ref": "A1"},
        "right": {"type": "reference", "sheet": None, "ref": "B1"},
    }


def test_a_broken_formula_is_explained_with_its_syntax_error():
    """The parser's error and position reach the model and the output."""
    model = FakeModel("A closing parenthesis is missing.")
    output = SKILL.invoke({"formula": "=SUM(A1:A3"}, model)
    assert output["structure"] is None
    assert output["syntax_error"] == {"message": "expected ',' or ')' but the formula ended", "position": 10}
    assert "syntax_error" in model.requests[0].messages[1].content
