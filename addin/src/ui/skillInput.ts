// From what the host read to what a skill's input_schema asks for: its own parameters (a target language, a tone, a
// sensitivity) as form fields, only the document fields it takes, and a readable refusal before a request that would
// only come back as 422.
import { ApiProblem } from "../api/errors";
import type { Skill, SkillInput } from "../api/types";

/** Fields the pane fills from the document or its own controls, never shown as parameters. */
const FROM_HOST = new Set(["text", "document", "range", "sheets", "formula", "instructions", "history", "drive_item", "target_cell"]);

interface PropertySchema {
  type?: string;
  enum?: unknown[];
  description?: string;
  default?: unknown;
  maxLength?: number;
}

interface ObjectSchema {
  properties?: Record<string, PropertySchema>;
  required?: string[];
  anyOf?: { required?: string[] }[];
}

/** One parameter of a skill, as the pane asks for it. */
export interface SkillParameter {
  name: string;
  label: string;
  kind: "choice" | "text" | "number" | "flag";
  choices: string[];
  required: boolean;
  hint?: string;
}

/** The skill's parameters the user gives: enums as choices, strings, numbers and flags. */
export function skillParameters(skill: Skill): SkillParameter[] {
  const schema = skill.input_schema as ObjectSchema;
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {})
    .filter(([name, property]) => !FROM_HOST.has(name) && property && typeof property === "object")
    .map(([name, property]) => ({
      name,
      label: name.charAt(0).toUpperCase() + name.slice(1).replace(/_/g, " "),
      kind: Array.isArray(property.enum) ? "choice" : property.type === "boolean" ? "flag" : property.type === "number" || property.type === "integer" ? "number" : "text",
      choices: Array.isArray(property.enum) ? property.enum.map(String) : [],
      required: required.has(name),
      hint: property.description ?? (property.default !== undefined ? `Default: ${String(property.default)}` : undefined),
    }));
}

/** Whether the skill's schema requires a field. */
export function skillRequires(skill: Skill, name: string): boolean {
  return ((skill.input_schema as ObjectSchema).required ?? []).includes(name);
}

/** Whether the skill works on the whole document only (it takes `document` but no selection `text`). */
export function wantsWholeDocument(skill: Skill): boolean {
  const properties = (skill.input_schema as ObjectSchema).properties ?? {};
  return "document" in properties && !("text" in properties);
}

/** Whether the skill takes a whole workbook (`sheets`), which the Excel adapter reads sheet by sheet. */
export function wantsWorkbook(skill: Skill): boolean {
  return "sheets" in ((skill.input_schema as ObjectSchema).properties ?? {});
}

/**
 * The input to send: the host's fields the skill takes (text of the selected cells for a text skill in Excel; the
 * whole text once, not twice, for the document scope), the typed parameters, and the instructions. Throws a readable
 * ApiProblem when something the skill requires is missing.
 */
export function buildInput(skill: Skill, read: SkillInput, values: Record<string, string>, instructions: string): SkillInput {
  const schema = skill.input_schema as ObjectSchema;
  const properties = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const input: SkillInput = {};
  for (const [name, value] of Object.entries(read)) {
    // A skill that declares no properties gets everything the host read.
    const taken = !schema.properties || name in properties;
    if (taken && !(typeof value === "string" && value.trim() === "")) input[name] = value;
  }
  if ("text" in properties && input.text === undefined && read.range && !("range" in properties)) {
    const text = rangeText(read.range.values);
    if (text) input.text = text;
  }
  if (input.text !== undefined && input.text === input.document) {
    if (required.has("text")) delete input.document; // the same words twice would cost twice
    else delete input.text;
  }
  for (const parameter of skillParameters(skill)) {
    const raw = values[parameter.name]?.trim() ?? "";
    if (!raw) continue;
    input[parameter.name] = parameter.kind === "number" ? Number(raw) : parameter.kind === "flag" ? raw === "true" : raw;
  }
  if (instructions.trim() && "instructions" in properties) input.instructions = instructions.trim();
  checkInstructionsLength(input.instructions, properties.instructions?.maxLength);
  const missing = missingFields(schema, input);
  if (missing.length) throw missingProblem(missing);
  return input;
}

/** Instructions longer than the skill takes are refused here, saying by how much, not by the API's 422. */
function checkInstructionsLength(instructions: unknown, limit: number | undefined): void {
  if (typeof instructions !== "string" || typeof limit !== "number" || instructions.length <= limit) return;
  const message = `The instructions have ${instructions.length.toLocaleString("en")} characters; this skill takes at most ${limit.toLocaleString("en")}.`;
  throw new ApiProblem(422, "instructions_too_long", message);
}

/** Required fields not in the input: `required`, and the first option of an `anyOf` when none of them is met. */
function missingFields(schema: ObjectSchema, input: SkillInput): string[] {
  const absent = (name: string) =>
    input[name] === undefined || (Array.isArray(input[name]) && input[name].length === 0) || (name === "range" && isEmptyRange(input.range));
  const missing = (schema.required ?? []).filter(absent);
  const options = schema.anyOf?.filter((option) => Array.isArray(option.required)) ?? [];
  if (options.length && !options.some((option) => option.required!.every((name) => !absent(name)))) {
    missing.push(...options[0].required!.filter((name) => absent(name) && !missing.includes(name)));
  }
  return missing;
}

/** A range of empty cells only (an empty sheet, or a selection beside the data): nothing for a skill that needs a
 * range to work on, which would otherwise be paid to clean or analyse nothing. It stays in the input as context for
 * a skill that merely accepts one (write_formula: where the formula goes). */
function isEmptyRange(range: SkillInput["range"]): boolean {
  const filled = (cell: unknown) => cell !== "" && cell !== null && cell !== undefined;
  return !!range && !range.values.some((row) => row.some(filled)) && !(range.formulas ?? []).some((row) => row.some(filled));
}

function missingProblem(missing: string[]): ApiProblem {
  const content = missing.filter((name) => FROM_HOST.has(name) && name !== "instructions");
  if (content.length) {
    return new ApiProblem(422, "nothing_selected", "There is nothing to work on: select some text or cells first, or choose the whole document.");
  }
  const names = missing.map((name) => (name === "instructions" ? "Instructions" : name.charAt(0).toUpperCase() + name.slice(1).replace(/_/g, " ")));
  return new ApiProblem(422, "missing_parameters", `Fill in: ${names.join(", ")}.`);
}

/** The cells of a range as text: one line per row, cells separated by tabs (as Excel copies them). */
function rangeText(values: unknown[][]): string {
  return values
    .map((row) => row.map((cell) => (cell === null || cell === undefined ? "" : String(cell))).join("\t").trimEnd())
    .join("\n")
    .trim();
}
