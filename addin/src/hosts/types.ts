// The one interface the pane uses for either host: read what the user points at, preview a write, write, undo.
import type { HostName, ModelInfo, Skill, SkillInput } from "../api/types";

/** Where the input comes from: what is selected (the whole document when nothing is) or the whole document. */
export type ReadScope = "selection" | "document";

/** A skill's answer on its way back into the document. */
export interface WriteRequest {
  mode: "insert" | "replace";
  skill: Pick<Skill, "id" | "output">;
  /** The answer as text (what streamed in). */
  text: string;
  /** The structured output of `done`, when there is one (edits, a table, a formula). */
  output?: unknown;
  model?: ModelInfo;
  /** Excel only: the range to write to; defaults to the cells under the selection (insert) or the selection. */
  target?: string;
  /** What the answer was made from: after a "document" read, Replace (and proofreading edits) apply to the whole
   * body, whatever is selected now. */
  scope?: ReadScope;
  /** Excel: the address of the range the answer was made from (clean_data's table): Replace writes there, not
   * wherever the selection is by the time Replace is pressed. */
  source?: string;
}

/** What a write would change, shown to the user before writing. */
export interface WritePreview {
  summary: string;
  target?: string;
  before?: unknown[][];
  after?: unknown[][];
}

/** What a write did, for the status line. */
export interface WriteReport {
  summary: string;
  tracked?: boolean;
}

export interface HostAdapter {
  readonly host: HostName;
  /** Read the selection (or the document) into a skill input. */
  readInput(scope: ReadScope): Promise<SkillInput>;
  /** What the last readInput covered when it differs from the scope asked for: Word reads the whole body when
   * nothing is selected ("document"), and Replace must then write over the body, not whatever is selected later. */
  readonly lastRead?: ReadScope;
  /** Excel: every sheet's used range, `{sheets: [{name, range}]}`, for a workbook skill (analyze_workbook). */
  readWorkbook?(): Promise<SkillInput>;
  /** Describe the write before doing it. */
  preview(request: WriteRequest): Promise<WritePreview>;
  /** Put the answer into the document. */
  write(request: WriteRequest): Promise<WriteReport>;
  /** Whether the last write can be undone by the pane (Word users have the app's own undo). */
  canUndo(): boolean;
  /** Restore what the last write overwrote. */
  undo(): Promise<void>;
}

/** One proofreading edit from a skill whose output is "edits". */
export interface ProofEdit {
  original: string;
  replacement: string;
  reason: string;
}
