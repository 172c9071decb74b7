"""The Excel formula parser: tokens, tree shapes, precedence, and errors with positions."""

from __future__ import annotations

import pytest

from backend.skills.builtin.formula import FormulaSyntaxError, formula_summary, parse_formula
from backend.skills.builtin.formula_tokens import column_number, tokenize


def ref(text, sheet=None):
    """A reference node."""
    return {"type": "reference", "sheet": sheet, "ref": text}


def num(value):
    """A number node."""
    return {"type": "number", "value": value}


def binary(op, left, right):
    """A binary operator node."""
    return {"type": "binary", "op": op, "left": left, "right": right}


def test_tokens_of_a_mixed_formula():
    """Kinds and values of every token, with positions in the original text (after '=')."""
    tokens = tokenize('=ROUND(\'Q1 Data\'!$B$2*1.5e2,2)&" ""x"""<>#N/A')
    assert [(t.kind, t.value, t.sheet) for t in tokens] == [
        ("function", "ROUND", None),
        ("paren", "(", None),
        ("reference", "$B$2", "Q1 Data"),
        ("operator", "*", None),
        ("number", "1.5e2", None),
        ("comma", ",", None),
        ("number", "2", None),
        ("paren", ")", None),
        ("operator", "&", None),
        ("string", ' "x"', None),
        ("operator", "<>", None),
        ("error", "#N/A", None),
    ]
    assert tokens[0].position == 1 and tokens[2].position == 7


@pytest.mark.parametrize(
    ("formula", "tree"),
    [
        ("=1+2*3", binary("+", num(1), binary("*", num(2), num(3)))),
        ("=(1+2)*3", binary("*", {"type": "group", "expression": binary("+", num(1), num(2))}, num(3))),
        ("=2^3^2", binary("^", binary("^", num(2), num(3)), num(2))),
        ("=-2^2", binary("^", {"type": "prefix", "op": "-", "operand": num(2)}, num(2))),
        ("=1&2=3", binary("=", binary("&", num(1), num(2)), num(3))),
        ("=1+2&3", binary("&", binary("+", num(1), num(2)), num(3))),
        ("=10%*2", binary("*", {"type": "postfix", "op": "%", "operand": num(10)}, num(2))),
        ("=A1>=B$2", binary(">=", ref("A1"), ref("B$2"))),
        ("=.5+1.", binary("+", num(0.5), num(1.0))),
    ],
)
def test_operator_precedence_and_associativity(formula, tree):
    """Excel's order: negation over ^ over * over + over & over comparisons; ^ is left-associative."""
    assert parse_formula(formula) == tree


@pytest.mark.parametrize(
    ("formula", "node"),
    [
        ("=A1", ref("A1")),
        ("=$A$1:$C$10", ref("$A$1:$C$10")),
        ("=A:C", ref("A:C")),
        ("=3:5", ref("3:5")),
        ("=Sheet2!B3", ref("B3", "Sheet2")),
        ("='It''s here'!A1:B2", ref("A1:B2", "It's here")),
        ("=Jan:Mar!C4", ref("C4", "Jan:Mar")),
        ("=XFD1048576", ref("XFD1048576")),
        ("=XFE1", {"type": "name", "sheet": None, "name": "XFE1"}),
        ("=TaxRate", {"type": "name", "sheet": None, "name": "TaxRate"}),
        ("=Sales[Amount]", {"type": "name", "sheet": None, "name": "Sales[Amount]"}),
        ("=Sales[[#Totals],[Amount]]", {"type": "name", "sheet": None, "name": "Sales[[#Totals],[Amount]]"}),
        ('="a ""quoted"" word"', {"type": "string", "value": 'a "quoted" word'}),
        ("=true", {"type": "boolean", "value": True}),
        ("=#DIV/0!", {"type": "error", "value": "#DIV/0!"}),
        ("=A1#", {"type": "postfix", "op": "#", "operand": ref("A1")}),
        ("=@B:B", {"type": "prefix", "op": "@", "operand": ref("B:B")}),
    ],
)
def test_operands(formula, node):
    """References of every shape, names, table references, literals and the spill and @ operators."""
    assert parse_formula(formula) == node


def test_functions_with_nested_empty_and_no_arguments():
    """Arguments are expressions; empty ones are kept; names are upper-cased without _xlfn."""
    tree = parse_formula('=if(AND(A1>0,B1<>""),,_xlfn.XLOOKUP(A1,T!A:A,T!B:B),NOW())')
    assert tree["name"] == "IF"
    assert [arg["type"] for arg in tree["args"]] == ["function", "empty", "function", "function"]
    assert tree["args"][2]["name"] == "XLOOKUP" and tree["args"][3] == {"type": "function", "name": "NOW", "args": []}
    assert formula_summary(tree) == {
        "functions": ["IF", "AND", "XLOOKUP", "NOW"],
        "references": ["A1", "B1", "T!A:A", "T!B:B"],
        "names": [],
    }


def test_function_name_that_looks_like_a_cell():
    """LOG10( is a function, LOG10 alone a cell."""
    assert parse_formula("=LOG10(100)")["type"] == "function"
    assert parse_formula("=LOG10") == ref("LOG10")


def test_array_constants_and_unions():
    """{rows;of,items} with negative numbers; (A1,B1) is a union."""
    assert parse_formula('={1,-2;"a",TRUE}') == {
        "type": "array",
        "rows": [[num(1), num(-2)], [{"type": "string", "value": "a"}, {"type": "boolean", "value": True}]],
    }
    assert parse_formula("=SUM((A1,C1))")["args"][0] == {"type": "union", "items": [ref("A1"), ref("C1")]}


def test_range_operator_between_expressions():
    """A1:INDEX(...) is a range built by the ':' operator."""
    tree = parse_formula("=SUM(A1:INDEX(B:B,5))")["args"][0]
    assert tree["type"] == "range" and tree["left"] == ref("A1") and tree["right"]["name"] == "INDEX"


@pytest.mark.parametrize(
    ("formula", "message", "position"),
    [
        ("=SUM(A1", "expected ',' or ')' but the formula ended", 7),
        ("=1+", "the formula ended early", 3),
        ('="open', "unterminated string", 1),
        ("={1,A1}", "array constants may hold only constants", 1),
        ("={1,2;3}", "array rows must have the same length", 1),
        ("=)", "unexpected ')'", 1),
        ("=A1 B1", "unexpected 'B1' after the end of the expression", 4),
        ("=1 ? 2", "unexpected character '?'", 3),
        ("=", "the formula is empty", 0),
        ("=Sales[[#All]", "unbalanced '[' in a table reference", 6),
        ("=SUM(1;2)", "expected ',' or ')', found ';'", 6),
    ],
)
def test_syntax_errors_say_what_and_where(formula, message, position):
    """Each error names the problem and its 0-based offset in the formula text."""
    with pytest.raises(FormulaSyntaxError) as caught:
        parse_formula(formula)
    assert caught.value.reason == message
    assert caught.value.position == position


def test_column_numbers():
    """Column letters map to Excel's 1-based column numbers."""
    assert [column_number(c) for c in ("A", "Z", "AA", "XFD")] == [1, 26, 27, 16384]
