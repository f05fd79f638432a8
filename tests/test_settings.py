"""Issue 22 case 11: unknown GUIDELINE_ASSISTANT_* variables are rejected with one line, known ones still work."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from assistant.cli import EXIT_INPUT, app
from assistant.errors import SettingsError
from assistant.settings import Settings

UNKNOWN = [
    ("made up", "GUIDELINE_ASSISTANT_BOGUS", "1", "see the settings table"),
    ("typo of a field", "GUIDELINE_ASSISTANT_INDEX_DRI", "/tmp/x", "did you mean GUIDELINE_ASSISTANT_INDEX_DIR?"),
    ("typo of a secret", "GUIDELINE_ASSISTANT_ADMIN_SECRET_FIEL", "/tmp/s", "GUIDELINE_ASSISTANT_ADMIN_SECRET_FILE"),
    ("empty value", "GUIDELINE_ASSISTANT_NOTHING", "", "GUIDELINE_ASSISTANT_NOTHING"),
]


@pytest.mark.parametrize(("variable", "value", "fragment"), [c[1:] for c in UNKNOWN], ids=[c[0] for c in UNKNOWN])
def test_an_unknown_variable_is_refused_in_one_line(monkeypatch, variable: str, value: str, fragment: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        Settings()
    message = str(caught.value)
    assert variable in message and fragment in message and "\n" not in message


@pytest.mark.parametrize(("variable", "value", "fragment"), [c[1:] for c in UNKNOWN], ids=[c[0] for c in UNKNOWN])
def test_the_cli_says_it_in_one_line_with_exit_2(monkeypatch, variable: str, value: str, fragment: str) -> None:
    result = CliRunner().invoke(app, ["ask", "What IVIG dose?"], env={variable: value})
    assert result.exit_code == EXIT_INPUT
    assert variable in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output + result.stderr


KNOWN = [
    ("k", "GUIDELINE_ASSISTANT_K", "5", 5),
    ("audit answers", "GUIDELINE_ASSISTANT_AUDIT_ANSWERS", "true", True),
    ("shared", "GUIDELINE_ASSISTANT_SHARED", "1", True),
]


@pytest.mark.parametrize(("variable", "value", "expected"), [c[1:] for c in KNOWN], ids=[c[0] for c in KNOWN])
def test_a_known_variable_is_read(monkeypatch, variable: str, value: str, expected: object) -> None:
    monkeypatch.setenv(variable, value)
    assert getattr(Settings(), variable.removeprefix("GUIDELINE_ASSISTANT_").lower()) == expected


def test_the_admin_secret_never_shows_in_the_settings(monkeypatch) -> None:
    monkeypatch.setenv("GUIDELINE_ASSISTANT_ADMIN_SECRET", "correct-horse-battery-staple")
    settings = Settings()
    assert "correct-horse" not in repr(settings) and "correct-horse" not in str(settings.model_dump())
