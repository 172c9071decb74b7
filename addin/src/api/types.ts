// The shapes of the public API (shared/API.md) that the pane uses.

export type HostName = "word" | "excel";
export type Sensitivity = "general" | "confidential" | "highly_confidential";

export interface Me {
  tenant_id: string;
  user_id: string;
  name: string;
  roles: string[];
  tenant: { name: string; status: string };
}

export interface Skill {
  id: string;
  name: string;
  description: string;
  hosts: HostName[];
  input_schema: Record<string, unknown>;
  output: "text" | "json" | "edits" | "table";
  streaming: boolean;
  long_running: boolean;
}

export interface ModelInfo {
  provider: string;
  model: string;
  location: string;
  /** What the provider says of itself (the bundled local model: a tiny demo-grade model), shown with the answer. */
  notice?: string;
}

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
}

/** Excel's date systems: 1900 (the default) and 1904 (old Mac workbooks: serial 0 is 1904-01-01). */
export type DateSystem = 1900 | 1904;

export interface RangeInput {
  address: string;
  values: unknown[][];
  formulas?: unknown[][];
  /** Number formats of the cells that show a date or a time (null between them; trailing cells and rows without one
   * left out); absent when there is none. */
  number_formats?: (string | null)[][];
  /** The workbook's date system, which the serials of `values` are in; absent means 1900. */
  date_system?: DateSystem;
}

export interface SkillInput {
  text?: string;
  document?: string;
  range?: RangeInput;
  instructions?: string;
  sensitivity?: Sensitivity;
  [key: string]: unknown;
}

export interface InvokeResult {
  run_id: string;
  output: unknown;
  model: ModelInfo;
  usage: Usage;
  /** The answer reached the skill's output limit and ends where the model was stopped. */
  truncated?: boolean;
}

/** What a stream reports as it goes: the model first, then text deltas, then the final result. */
export type StreamEvent =
  | { type: "meta"; run_id: string; model: ModelInfo }
  | { type: "delta"; text: string }
  | { type: "done"; output: unknown; usage: Usage; model: ModelInfo; truncated?: boolean };

export type JobStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";

/** A job's usage (so far while it runs): its calls summed, and the models that made them (most calls first). */
export interface JobUsage extends Usage {
  calls?: number;
  models?: (ModelInfo & { calls: number })[];
}

export interface Job {
  id: string;
  skill: string;
  status: JobStatus;
  progress: number;
  output?: unknown;
  error?: { code: string; message: string };
  usage?: JobUsage;
  /** A short message about what the job is doing; "expired" once its retention purged its input and output. */
  stage?: string | null;
  created_at?: string;
  updated_at?: string;
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}
