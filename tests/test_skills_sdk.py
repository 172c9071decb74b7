"""The skill SDK surface is small and pinned: changing it is a deliberate act."""

from __future__ import annotations

import backend.skills.sdk as sdk

PUBLIC_NAMES = [
    "DATAMARK",
    "ChatMessage",
    "ChatRequest",
    "DateSystem",
    "FakeModel",
    "InputTooLarge",
    "InvalidInput",
    "ModelOutputError",
    "OutputInvalid",
    "Skill",
    "SkillLoadError",
    "SkillSpec",
    "as_typed_text",
    "assert_document_is_data",
    "date_system_of",
    "iso_to_serial",
    "kernel_function",
    "load_skill",
    "serial_to_iso",
    "skill_folder",
    "values_as_shown",
]


def test_public_names_are_pinned():
    """__all__ is exactly the documented list, and every name resolves."""
    assert sorted(sdk.__all__) == sorted(PUBLIC_NAMES)
    for name in PUBLIC_NAMES:
        assert getattr(sdk, name) is not None
    assert sdk.__doc__ and "FakeModel" in sdk.__doc__


def test_kernel_function_is_semantic_kernels_and_imported_lazily():
    """Importing the SDK does not import Semantic Kernel; asking for kernel_function does."""
    import subprocess
    import sys

    probe = "import sys, backend.skills.sdk; print('semantic_kernel' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip() == "False"
    from semantic_kernel.functions import kernel_function

    assert sdk.kernel_function is kernel_function


def test_fake_model_records_and_refuses_unscripted_calls():
    """Replies are used in order; callables see the request; running out is an error."""
    request = sdk.ChatRequest(messages=[sdk.ChatMessage("user", "hi")])
    model = sdk.FakeModel("one", lambda r: r.messages[0].content.upper())
    assert model(request) == "one" and model(request) == "HI" and model.requests == [request, request]
    try:
        model(request)
    except AssertionError as exc:
        assert "more often" in str(exc)
    else:
        raise AssertionError("expected the fake to refuse")
