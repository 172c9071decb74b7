"""Input checks: 422 with the failing fields and 413 for oversize input, in the contract's error shape."""

from __future__ import annotations

import pytest
from flask import Blueprint, request

from backend.skills.inputs import InputTooLarge, InvalidInput, check_input, document_size, input_errors
from backend.skills.loader import default_skills_dir, discover

SKILLS = discover(default_skills_dir()).skills


def test_every_failing_field_is_listed_without_echoing_values():
    """Missing, wrong type and wrong enum are each named; document text never appears in messages."""
    schema = SKILLS["rewrite"].spec.input_schema
    errors = input_errors(schema, {"text": 42, "tone": "sarcastic secret-value"})
    assert errors == [
        {"field": "text", "message": "must be of type string"},
        {"field": "tone", "message": 'must be one of "formal", "friendly", "concise", "expand"'},
    ]
    assert input_errors(schema, {}) == [{"field": "text", "message": "is required"}]  # the tone is optional
    assert "secret-value" not in str(errors)


@pytest.mark.parametrize(
    ("rule", "value", "message"),
    [
        ({"type": "integer", "minimum": 1}, 0, "is less than the minimum of 1"),
        ({"type": "integer", "maximum": 10}, 9_999_000, "is greater than the maximum of 10"),
        ({"type": "string", "minLength": 5}, "abc", "is shorter than 5 characters"),
        ({"type": "string", "maxLength": 3}, "secret-value", "is longer than 3 characters"),
        ({"type": "array", "maxItems": 1}, ["secret-value", "x"], "has more than 1 items"),
        ({"type": "string", "pattern": "^[a-z]+$"}, "secret-value 9", "does not match the pattern ^[a-z]+$"),
    ],
)
def test_a_broken_bound_names_the_limit_never_the_value(rule, value, message):
    """The admin console and the add-in show these beside the field: readable, and without the value sent."""
    errors = input_errors({"type": "object", "properties": {"field": rule}}, {"field": value})
    assert errors == [{"field": "field", "message": message}]
    assert "secret-value" not in str(errors) and "9999000" not in str(errors)


def test_either_field_alternatives_are_named():
    """summarize takes a selection or a whole document: neither names both."""
    errors = input_errors(SKILLS["summarize"].spec.input_schema, {"length": "short"})
    assert errors == [{"field": "(root)", "message": "needs one of the fields: text, document"}]


def test_nested_fields_have_paths():
    """Excel ranges report the path inside the object."""
    errors = input_errors(SKILLS["analyze_range"].spec.input_schema, {"range": {"address": "A1", "values": "x"}})
    assert errors == [{"field": "range/values", "message": "must be of type array"}]


def test_size_counts_document_content_only():
    """Only spotlighted fields count; ranges count as compact JSON."""
    spec = SKILLS["analyze_range"].spec
    data = {"range": {"address": "A1:B1", "values": [[1, "ab"]]}, "instructions": "x" * 5000}
    assert document_size(spec, data) == len('{"address":"A1:B1","values":[[1,"ab"]]}')


def _oversized(field: str, limit: int) -> object:
    """A value of the field's shape whose document content is just over the limit."""
    big = "x" * (limit + 1)
    table = {"address": "A1", "values": [[big]]}
    return {"range": table, "sheets": [{"name": "S", "range": table}]}.get(field, big)


@pytest.mark.parametrize("skill_id", sorted(SKILLS))
def test_every_skill_has_a_limit_and_enforces_it(skill_id):
    """Document content over the skill's limit is a 413 that points at the skill's job where it has one, else at a
    shorter selection (a job of a skill with no long-running counterpart does not exist)."""
    spec = SKILLS[skill_id].spec
    field = next(name for name in spec.spotlight if name in spec.input_schema["properties"])
    data = {"text": "x", "tone": "formal", "target_language": "French", "instructions": "do it", "document": "x"}
    own_limit = spec.input_schema["properties"][field].get("maxLength", spec.max_input_chars)
    if own_limit < spec.max_input_chars:  # the field's own maxLength comes first: a 422 naming the field
        data[field] = "x" * (own_limit + 1)
        with pytest.raises(InvalidInput):
            check_input(spec, data)
        return
    data[field] = _oversized(field, spec.max_input_chars)
    advice = f"'{spec.large_input_job}' instead, as a job: POST /api/jobs" if spec.large_input_job else "shorter"
    with pytest.raises(InputTooLarge, match=advice):
        check_input(spec, data)
    data[field] = _oversized(field, 10)
    check_input(spec, data)


def test_routes_answer_422_and_413_in_the_contract_shape(app):
    """Raised from a view, the errors render as {"error": {code, message, details}}."""
    bp = Blueprint("skills_probe", __name__)

    @bp.post("/probe/<skill_id>")
    def probe(skill_id):
        SKILLS[skill_id].check_input(request.get_json())
        return {"ok": True}

    app.register_blueprint(bp)
    client = app.test_client()
    response = client.post("/probe/translate", json={"target_language": "German"})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_input"
    assert response.get_json()["error"]["details"]["fields"] == [{"field": "text", "message": "is required"}]
    huge = "word " * 10_000
    response = client.post("/probe/translate", json={"text": huge, "target_language": "German"})
    assert response.status_code == 413
    body = response.get_json()["error"]
    assert body["code"] == "input_too_large" and "word" not in body["message"]
    assert client.post("/probe/translate", json={"text": "hi", "target_language": "German"}).status_code == 200
    assert isinstance(InvalidInput("x", []), Exception)


def test_a_conversation_counts_against_the_limit():
    """ask sends earlier turns with each request: 40 turns of 20,000 characters must not pass as a small input and
    fail later at the provider; they count with the document."""
    spec = SKILLS["ask"].spec
    turns = [{"role": "user", "content": "q" * 10_000}, {"role": "assistant", "content": "a" * 10_000}] * 4
    data = {"instructions": "And then?", "document": "Short report.", "history": turns}
    assert document_size(spec, data) == len("Short report.") + 80_000
    with pytest.raises(InputTooLarge) as caught:
        check_input(spec, data)
    assert "conversation" in caught.value.message


def test_the_422_message_names_the_fields_without_their_values():
    """The pane shows the message only: it lists what is wrong, never what was sent."""
    with pytest.raises(InvalidInput) as caught:
        check_input(SKILLS["summarize"].spec, {"text": "secret-value", "length": "epic"})
    assert caught.value.message.endswith('length must be one of "short", "medium", "long".')
    assert "secret-value" not in caught.value.message


def test_large_input_jobs_name_long_running_skills():
    """A 413 may send the caller to a job only when that job exists: summarize and translate have one."""
    jobs = {s.spec.id: s.spec.large_input_job for s in SKILLS.values() if s.spec.large_input_job}
    assert jobs == {"summarize": "summarize_document", "translate": "translate_document"}
    assert all(SKILLS[job].spec.long_running for job in jobs.values())
