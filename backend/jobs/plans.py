"""How each long-running skill splits into steps: map over chunks (or sheets), then reduce level by level.

A plan is deterministic given its input and the results of earlier steps, so step keys are the same on every
delivery of the task and stored steps are reused rather than repeated. An answer the output limit cut off
(`ctx.cut_off`) is never passed on as if whole: the output says `truncated`, and translate_document redoes such a
chunk paragraph by paragraph.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from backend.jobs.chunking import Piece, chunk_paragraphs, chunk_pieces, paragraph_pieces, split_paragraphs
from backend.jobs.reduce_plan import reduce_groups
from backend.jobs.runner import JobContext, Step
from backend.skills.builtin.range_stats import analyze_range
from backend.skills.runtime import Skill

TokenCounter = Callable[[str], int]


def _common(data: dict[str, Any]) -> dict[str, Any]:
    """The input fields every step of a plan passes on."""
    return {"instructions": data.get("instructions", ""), "sensitivity": data.get("sensitivity")}


def summarize_document(ctx: JobContext, skill: Skill, data: dict[str, Any], count: TokenCounter) -> dict[str, Any]:
    """Summarize each chunk, then combine summaries in groups that fit, level by level, into one."""
    chunks = chunk_paragraphs(split_paragraphs(data["document"]), ctx.chunk_tokens, count)
    steps = [
        Step(f"map:{c.index:05d}", skill.build_request({**_common(data), "part": c.text}, prompt="default"))
        for c in chunks
    ]
    partials = ctx.run_steps(steps, 0.0, 0.8, f"summarizing {len(chunks)} parts")
    last_round = steps  # the summary is the first answer of the last round
    level = 1
    while len(partials) > 1:
        groups = reduce_groups(partials, ctx.reduce_tokens, count)
        if len(groups) == len(partials):  # nothing fits together; combine pairwise to guarantee progress
            groups = [list(range(i, min(i + 2, len(partials)))) for i in range(0, len(partials), 2)]
        reduce_data = {**_common(data), "length": data.get("length", "medium")}
        steps = [
            Step(
                f"reduce:{level}:{n:04d}",
                skill.build_request(
                    {**reduce_data, "summaries": "\n\n".join(partials[i] for i in group)}, prompt="reduce"
                ),
            )
            for n, group in enumerate(groups)
        ]
        start = 0.8 + 0.2 * (1 - 1 / level)
        partials = ctx.run_steps(
            steps, start, 0.8 + 0.2 * (1 - 1 / (level + 1)), f"combining summaries (level {level})"
        )
        last_round = steps
        level += 1
    summary = skill.parse_output(partials[0], data) if partials else ""
    truncated = bool(last_round) and last_round[0].key in ctx.cut_off
    return {"summary": summary, "parts": len(chunks), "truncated": truncated}


def translate_document(ctx: JobContext, skill: Skill, data: dict[str, Any], count: TokenCounter) -> dict[str, Any]:
    """Translate chunk by chunk; a chunk whose paragraph count changed is redone paragraph by paragraph.

    A paragraph too long for a chunk is translated in its parts (`paragraph_pieces`), which are joined again: the
    output has one entry per paragraph of the document, whatever its length.
    """
    paragraphs = split_paragraphs(data["document"])
    pieces = paragraph_pieces(paragraphs, ctx.chunk_tokens, count)
    chunks = chunk_pieces(pieces, ctx.chunk_tokens)
    fixed = {"target_language": data["target_language"], **_common(data)}
    steps = [Step(f"map:{c.index:05d}", skill.build_request({**fixed, "part": c.text})) for c in chunks]
    translated = ctx.run_steps(steps, 0.0, 0.9, f"translating {len(chunks)} parts")
    result: list[str | None] = [None] * len(pieces)
    redo: list[int] = []
    for step, chunk, text in zip(steps, chunks, translated, strict=True):
        lines = split_paragraphs(text)
        span = list(range(chunk.first_piece, chunk.last_piece + 1))
        if len(lines) == len(span) and step.key not in ctx.cut_off:
            for number, line in zip(span, lines, strict=True):
                result[number] = line
        else:
            redo.extend(span)
    cut_off: set[int] = set()  # paragraphs whose own translation (of one of their parts) the output limit cut off
    if redo:
        steps = [Step(_piece_key(pieces[n]), skill.build_request({**fixed, "part": pieces[n].text})) for n in redo]
        texts = ctx.run_steps(steps, 0.9, 1.0, "realigning paragraphs")
        for number, step, text in zip(redo, steps, texts, strict=True):
            result[number] = text.strip()
            if step.key in ctx.cut_off:
                cut_off.add(pieces[number].paragraph)
    joined: list[list[str]] = [[] for _ in paragraphs]
    for piece, text in zip(pieces, result, strict=True):
        joined[piece.paragraph].append(text or "")
    texts_by_paragraph = [" ".join(parts) for parts in joined]
    return {
        "paragraphs": [
            {
                "index": n,
                "source_chars": len(p),
                "text": texts_by_paragraph[n],
                **({"truncated": True} if n in cut_off else {}),
            }
            for n, p in enumerate(paragraphs)
        ],
        "text": "\n".join(texts_by_paragraph),
        "truncated": bool(cut_off),
    }


def _piece_key(piece: Piece) -> str:
    """The step key of one piece translated on its own: the paragraph's number, and the part's if it has parts."""
    if piece.parts == 1:
        return f"para:{piece.paragraph:06d}"
    return f"para:{piece.paragraph:06d}:{piece.part:04d}"


def analyze_workbook(ctx: JobContext, skill: Skill, data: dict[str, Any], count: TokenCounter) -> dict[str, Any]:
    """Statistics per sheet computed exactly in Python, a narrative per sheet, then an overview across sheets."""
    sheets = data["sheets"]
    ranges = [sheet["range"] for sheet in sheets]
    statistics = [analyze_range(r) for r in ranges]
    steps = [
        Step(
            f"map:{n:04d}",
            skill.build_request(
                {
                    **_common(data),
                    "sheet": f"{sheet['name']} ({sheet['range'].get('address', '')})",
                    "statistics": json.dumps(stats, ensure_ascii=False, default=str),
                }
            ),
        )
        for n, (sheet, stats) in enumerate(zip(sheets, statistics, strict=True))
    ]
    narratives = ctx.run_steps(steps, 0.0, 0.8, f"analyzing {len(sheets)} sheets")
    cut_sheets = [step.key in ctx.cut_off for step in steps]
    summaries = "\n\n".join(f"{s['name']}:\n{text}" for s, text in zip(sheets, narratives, strict=True))
    overview_request = skill.build_request({**_common(data), "summaries": summaries}, prompt="reduce")
    overview_step = Step("reduce:1:0000", overview_request)
    overview = ctx.run_steps([overview_step], 0.8, 1.0, "writing the overview")[0]
    return {
        "overview": skill.parse_output(overview, data),
        "sheets": [
            {
                "name": s["name"],
                "statistics": stats,
                "chart": stats.get("chart"),
                "narrative": skill.parse_output(text, data),
                **({"truncated": True} if cut else {}),
            }
            for s, stats, text, cut in zip(sheets, statistics, narratives, cut_sheets, strict=True)
        ],
        "truncated": overview_step.key in ctx.cut_off or any(cut_sheets),
    }


PLANS: dict[str, Callable[[JobContext, Skill, dict[str, Any], TokenCounter], Any]] = {
    "summarize_document": summarize_document,
    "translate_document": translate_document,
    "analyze_workbook": analyze_workbook,
}
