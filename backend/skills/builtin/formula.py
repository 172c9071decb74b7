"""Excel formula parser: tokens (formula_tokens) to a tree of plain dicts, ready for JSON and for the model.

Operator precedence follows Excel, tightest first: range ':', spill '#', negation and '@', percent '%', '^',
'*' '/', '+' '-', '&', comparisons. Negation binds tighter than '^', so =-2^2 is 4 as in Excel. '^' is
left-associative. Whitespace is ignored (the rarely used space intersection operator is not supported).
"""

from __future__ import annotations

from typing import Any

from backend.skills.builtin.formula_tokens import (
    MAX_COLUMN,
    MAX_ROW,
    FormulaSyntaxError,
    Token,
    column_number,
    tokenize,
)

Node = dict[str, Any]
BINARY_POWER = {":": 90, "^": 50, "*": 40, "/": 40, "+": 30, "-": 30, "&": 20}
BINARY_POWER.update({op: 10 for op in ("=", "<>", "<", ">", "<=", ">=")})
POSTFIX_POWER = {"%": 60, "#": 95}
PREFIX_POWER = 70

__all__ = ["FormulaSyntaxError", "parse_formula", "formula_summary", "refers_to_cell"]


def _function_name(text: str) -> str:
    """The function name in upper case, without the _xlfn./_xlws. prefix files store for newer functions."""
    name = text.upper()
    for prefix in ("_XLFN.", "_XLWS."):
        name = name.removeprefix(prefix)
    return name


class _Parser:
    """A Pratt parser over one formula's tokens."""

    def __init__(self, tokens: list[Token], length: int):
        self.tokens = tokens
        self.index = 0
        self.length = length

    def peek(self) -> Token | None:
        """The next token, or None at the end."""
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, value: str | None = None, expected: str | None = None) -> Token:
        """Consume the next token, which must have the given text when one is given."""
        token = self.peek()
        expected = expected or (repr(value) if value else None)
        if token is None:
            problem = f"expected {expected} but the formula ended" if expected else "the formula ended early"
            raise FormulaSyntaxError(problem, self.length)
        if value is not None and token.value != value:
            raise FormulaSyntaxError(f"expected {expected}, found {token.value!r}", token.position)
        self.index += 1
        return token

    def expression(self, power: int = 0) -> Node:
        """An expression whose operators bind tighter than `power`."""
        left = self.operand()
        while (token := self.peek()) is not None and token.kind == "operator":
            if token.value in POSTFIX_POWER and POSTFIX_POWER[token.value] > power:
                self.take()
                left = {"type": "postfix", "op": token.value, "operand": left}
            elif token.value in BINARY_POWER and BINARY_POWER[token.value] > power:
                self.take()
                right = self.expression(BINARY_POWER[token.value])
                kind = "range" if token.value == ":" else "binary"
                left = {"type": kind, "op": token.value, "left": left, "right": right}
            else:
                break
        return left

    def operand(self) -> Node:
        """A literal, reference, name, function call, parenthesised group, array, or prefixed operand."""
        token = self.take()
        if token.kind == "operator" and token.value in ("-", "+", "@"):
            return {"type": "prefix", "op": token.value, "operand": self.expression(PREFIX_POWER)}
        if token.kind == "number":
            return {
                "type": "number",
                "value": float(token.value) if "." in token.value or "e" in token.value.lower() else int(token.value),
            }
        if token.kind in ("string", "error"):
            return {"type": token.kind, "value": token.value}
        if token.kind == "boolean":
            return {"type": "boolean", "value": token.value == "TRUE"}
        if token.kind in ("reference", "name"):
            key = "name" if token.kind == "name" else "ref"
            return {"type": token.kind, "sheet": token.sheet, key: token.value}
        if token.kind == "function":
            return self.call(token)
        if token.value == "(":
            return self.group()
        if token.value == "{":
            return self.array(token)
        raise FormulaSyntaxError(f"unexpected {token.value!r}", token.position)

    def call(self, token: Token) -> Node:
        """A function call: NAME( [arg] {, [arg]} ); empty arguments are kept as {"type": "empty"}."""
        self.take("(")
        args: list[Node] = []
        if self.peek() is not None and self.peek().value == ")":
            self.take(")")
            return {"type": "function", "name": _function_name(token.value), "args": args}
        while True:
            nxt = self.peek()
            if nxt is not None and nxt.value in (",", ")"):
                args.append({"type": "empty"})
            else:
                args.append(self.expression())
            separator = self.take(expected="',' or ')'")
            if separator.value == ")":
                return {"type": "function", "name": _function_name(token.value), "args": args}
            if separator.value != ",":
                raise FormulaSyntaxError(f"expected ',' or ')', found {separator.value!r}", separator.position)

    def group(self) -> Node:
        """( expression ), or a union of references ( a, b, ... )."""
        items = [self.expression()]
        while self.peek() is not None and self.peek().value == ",":
            self.take(",")
            items.append(self.expression())
        self.take(")")
        return {"type": "group", "expression": items[0]} if len(items) == 1 else {"type": "union", "items": items}

    def array(self, opening: Token) -> Node:
        """An array constant {1,2;3,4}: rows split by ';', items by ','; items are constants only."""
        rows: list[list[Node]] = [[]]
        while True:
            item = self.operand()
            if item["type"] == "prefix" and item["op"] == "-" and item["operand"]["type"] == "number":
                item = {"type": "number", "value": -item["operand"]["value"]}
            if item["type"] not in ("number", "string", "boolean", "error"):
                raise FormulaSyntaxError("array constants may hold only constants", opening.position)
            rows[-1].append(item)
            separator = self.take(expected="',', ';' or '}'")
            if separator.value == "}":
                break
            if separator.value == ";":
                rows.append([])
            elif separator.value != ",":
                raise FormulaSyntaxError(f"unexpected {separator.value!r} in an array", separator.position)
        if len({len(row) for row in rows}) != 1:
            raise FormulaSyntaxError("array rows must have the same length", opening.position)
        return {"type": "array", "rows": rows}


def parse_formula(formula: str) -> Node:
    """The syntax tree of an Excel formula, or FormulaSyntaxError with the offending position."""
    if not formula.strip().lstrip("="):
        raise FormulaSyntaxError("the formula is empty", 0)
    parser = _Parser(tokenize(formula), len(formula))
    tree = parser.expression()
    if parser.peek() is not None:
        token = parser.peek()
        raise FormulaSyntaxError(f"unexpected {token.value!r} after the end of the expression", token.position)
    return tree


def _walk(node: Any):
    """Every dict node of a tree, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def formula_summary(tree: Node) -> dict[str, Any]:
    """The functions called and the references and names used, each once, in order of appearance."""
    functions, references, names = [], [], []
    for node in _walk(tree):
        if node.get("type") == "function" and node["name"] not in functions:
            functions.append(node["name"])
        elif node.get("type") == "reference":
            ref = f"{node['sheet']}!{node['ref']}" if node["sheet"] else node["ref"]
            if ref not in references:
                references.append(ref)
        elif node.get("type") == "name" and node["name"] not in names:
            names.append(node["name"])
    return {"functions": functions, "references": references, "names": names}


def _span(ref: str) -> tuple[int, int, int, int]:
    """The columns and rows an A1 reference covers, 1-based and inclusive (whole columns or rows span all)."""
    columns, rows = [], []
    for part in ref.replace("$", "").split(":"):
        letters = "".join(c for c in part if c.isalpha())
        digits = "".join(c for c in part if c.isdigit())
        columns.append(column_number(letters) if letters else None)
        rows.append(int(digits) if digits else None)
    known_columns = [c for c in columns if c is not None] or [1, MAX_COLUMN]
    known_rows = [r for r in rows if r is not None] or [1, MAX_ROW]
    return min(known_columns), max(known_columns), min(known_rows), max(known_rows)


def refers_to_cell(tree: Node, sheet: str | None, column: int, row: int) -> bool:
    """Whether a formula placed in the cell (column, row) of `sheet` reads that cell: a circular reference.
    Unqualified references are on the formula's own sheet; a qualified one counts when its sheet is `sheet`."""
    for node in _walk(tree):
        if node.get("type") != "reference":
            continue
        own = node["sheet"] is None or sheet is not None and node["sheet"].lower() == sheet.lower()
        first_column, last_column, first_row, last_row = _span(node["ref"])
        if own and first_column <= column <= last_column and first_row <= row <= last_row:
            return True
    return False
