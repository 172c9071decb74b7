"""Excel formula tokenizer: numbers, strings, booleans, errors, references (sheet-qualified, ranges, whole rows or
columns, structured table references), names, functions, operators, parentheses and array constants."""

from __future__ import annotations

import re
from dataclasses import dataclass

ERRORS = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!")
MAX_COLUMN = 16_384  # XFD
MAX_ROW = 1_048_576

_SHEET = r"(?:'(?:[^']|'')+'|[A-Za-z_\u00c0-\uffff][\w.\u00c0-\uffff]*(?::[A-Za-z_][\w.]*)?)!"
_CELL = r"\$?[A-Za-z]{1,3}\$?[0-9]+"
_REFERENCE = re.compile(
    rf"(?P<sheet>{_SHEET})?(?P<ref>{_CELL}(?::{_CELL})?|\$?[A-Za-z]{{1,3}}:\$?[A-Za-z]{{1,3}}|\$?[0-9]+:\$?[0-9]+)"
    r"(?![\w(\[.])"
)
_NUMBER = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_FUNCTION = re.compile(r"(?:_xlfn\.|_xlws\.)?[A-Za-z][\w.]*(?=\()")
_NAME = re.compile(rf"(?P<sheet>{_SHEET})?(?P<name>[A-Za-z_\\\u00c0-\uffff][\w.\u00c0-\uffff]*)")
_OPERATORS = ("<>", "<=", ">=", "+", "-", "*", "/", "^", "&", "=", "<", ">", "%", ":", "@", "#")
_PUNCTUATION = "(),{};"


class FormulaSyntaxError(ValueError):
    """The formula cannot be parsed; `position` is the 0-based offset in the formula text."""

    def __init__(self, message: str, position: int):
        super().__init__(f"{message} at position {position}")
        self.reason = message
        self.position = position


@dataclass(frozen=True)
class Token:
    """One token: kind, its text (strings unquoted, sheet names unquoted), sheet if qualified, offset."""

    kind: str  # number string boolean error reference name function operator paren comma semicolon brace
    value: str
    position: int
    sheet: str | None = None


def column_number(letters: str) -> int:
    """1-based column number of column letters (A=1, XFD=16384)."""
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - 64
    return number


def _reference_in_bounds(ref: str) -> bool:
    """Whether every cell, column and row of an A1 reference exists in a worksheet."""
    for part in ref.replace("$", "").split(":"):
        letters = "".join(c for c in part if c.isalpha())
        digits = "".join(c for c in part if c.isdigit())
        if letters and column_number(letters) > MAX_COLUMN or digits and not 1 <= int(digits) <= MAX_ROW:
            return False
    return True


def _unquote_sheet(sheet: str) -> str:
    """The sheet name without the trailing '!' and quoting."""
    sheet = sheet[:-1]
    return sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet


def _read_string(text: str, start: int) -> tuple[str, int]:
    """A "..." literal starting at start ("" is an escaped quote): its value and the offset after it."""
    value, i = [], start + 1
    while i < len(text):
        if text[i] == '"':
            if text[i + 1 : i + 2] == '"':
                value.append('"')
                i += 2
                continue
            return "".join(value), i + 1
        value.append(text[i])
        i += 1
    raise FormulaSyntaxError("unterminated string", start)


def _read_brackets(text: str, start: int) -> int:
    """The offset after a balanced [...] group of a structured reference."""
    depth, i = 0, start
    while i < len(text):
        depth += {"[": 1, "]": -1}.get(text[i], 0)
        i += 1
        if depth == 0:
            return i
    raise FormulaSyntaxError("unbalanced '[' in a table reference", start)


def _word_token(text: str, i: int) -> tuple[Token, int]:
    """A token starting with a letter, '_', '\\', '$' or a quote: reference, function, boolean or name."""
    match = _REFERENCE.match(text, i)
    if match and _reference_in_bounds(match.group("ref")):
        sheet = match.group("sheet")
        return Token("reference", match.group("ref"), i, _unquote_sheet(sheet) if sheet else None), match.end()
    match = _FUNCTION.match(text, i)
    if match:
        return Token("function", match.group(0), i), match.end()
    match = _NAME.match(text, i)
    if not match:
        raise FormulaSyntaxError("unexpected character", i)
    end, name = match.end(), match.group("name")
    if not match.group("sheet") and name.upper() in ("TRUE", "FALSE"):
        return Token("boolean", name.upper(), i), end
    if text[end : end + 1] == "[":
        end = _read_brackets(text, end)
        name = text[match.start("name") : end]
    sheet = match.group("sheet")
    return Token("name", name, i, _unquote_sheet(sheet) if sheet else None), end


def tokenize(formula: str) -> list[Token]:
    """Tokens of a formula (a leading '=' is optional); whitespace between tokens is ignored."""
    text = formula
    tokens: list[Token] = []
    i = 1 if formula.startswith("=") else 0  # positions are offsets in the formula as the user wrote it
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char == '"':
            value, end = _read_string(text, i)
            tokens.append(Token("string", value, i))
            i = end
        elif char == "#" and (error := next((e for e in ERRORS if text.upper().startswith(e, i)), None)):
            tokens.append(Token("error", error, i))
            i += len(error)
        elif (match := _REFERENCE.match(text, i)) and char.isdigit() and _reference_in_bounds(match.group("ref")):
            tokens.append(Token("reference", match.group("ref"), i))
            i = match.end()
        elif char.isdigit() or char == "." and text[i + 1 : i + 2].isdigit():
            match = _NUMBER.match(text, i)
            tokens.append(Token("number", match.group(0), i))
            i = match.end()
        elif char.isalpha() or char in "_\\$'" or ord(char) >= 0xC0:
            token, i = _word_token(text, i)
            tokens.append(token)
        elif char in _PUNCTUATION:
            kind = {"(": "paren", ")": "paren", ",": "comma", ";": "semicolon", "{": "brace", "}": "brace"}[char]
            tokens.append(Token(kind, char, i))
            i += 1
        elif operator := next((op for op in _OPERATORS if text.startswith(op, i)), None):
            tokens.append(Token("operator", operator, i))
            i += len(operator)
        else:
            raise FormulaSyntaxError(f"unexpected character {char!r}", i)
    return tokens
