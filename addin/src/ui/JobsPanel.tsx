// Long-running work: each job with a progress bar, the models working on it and its cost so far, Cancel while it
// runs, and Open result when it has succeeded.
import { Body1, Button, Caption1, ProgressBar, Subtitle2 } from "@fluentui/react-components";
import { useEffect, useRef } from "react";
import type { Job, ModelInfo } from "../api/types";
import { formatCost } from "./ProvenanceBadge";

const ACTIVE = new Set(["queued", "running"]);

/** Whether a job may still change. */
export function isActive(job: Job): boolean {
  return ACTIVE.has(job.status);
}

/** Whether the job's retention has passed: its result was deleted (the row stays, for the list and the usage). */
export function isExpired(job: Job): boolean {
  return job.stage === "expired";
}

/** The model a job's answer came from, for its provenance badge: the one that made most of its calls, with how many
 * others took part ("gpt-4.1 (+1 more)"), or null for a job that made no call. */
export function jobModel(job: Job): ModelInfo | null {
  const [first, ...others] = job.usage?.models ?? [];
  if (!first) return null;
  const model = others.length ? `${first.model} (+${others.length} more)` : first.model;
  return { provider: first.provider, model, location: first.location };
}

/** The job's models and what its calls cost, as its list entry shows them: "Working with gpt-4.1 via openai
 * (us-east) · 3 calls · $0.0042 so far" while it runs (the usage so far), without "Working with" and "so far" once it
 * has ended; null before its first metered call. */
export function jobUsageLine(job: Job): string | null {
  const model = jobModel(job);
  if (!model || !job.usage) return null;
  const calls = job.usage.calls ?? job.usage.models?.reduce((sum, entry) => sum + entry.calls, 0) ?? 0;
  const where = `${model.model} via ${model.provider} (${model.location})`;
  const cost = `${calls} ${calls === 1 ? "call" : "calls"} · ${formatCost(job.usage.cost_usd)}`;
  return isActive(job) ? `Working with ${where} · ${cost} so far` : `${where} · ${cost}`;
}

interface Props {
  jobs: Job[];
  /** The skills' names by id, to name a job as the skill picker does ("Summarize document", not its id). */
  names?: Record<string, string>;
  onCancel: (job: Job) => void;
  onOpen: (job: Job) => void;
}

export function JobsPanel({ jobs, names = {}, onCancel, onOpen }: Props) {
  // The jobs seen queued or running in this pane: only their failure is news to announce. A job that had already
  // failed when the pane opened is listed quietly, or a screen reader would read out every old failure.
  const watched = useRef(new Set<string>());
  useEffect(() => {
    for (const job of jobs) if (isActive(job)) watched.current.add(job.id);
  }, [jobs]);
  if (jobs.length === 0) return null;
  return (
    <section className="jobs" aria-label="Jobs" data-testid="jobs">
      <Subtitle2 as="h2">Jobs</Subtitle2>
      <ul>
        {jobs.map((job) => (
          <JobItem
            key={job.id}
            job={job}
            name={names[job.skill] ?? job.skill}
            announce={watched.current.has(job.id)}
            onCancel={onCancel}
            onOpen={onOpen}
          />
        ))}
      </ul>
    </section>
  );
}

interface ItemProps {
  job: Job;
  name: string;
  /** The pane watched the job run: its error is an alert, read out as it appears. */
  announce: boolean;
  onCancel: (job: Job) => void;
  onOpen: (job: Job) => void;
}

/** One job: its progress, models and cost, its error, and Cancel or Open result. Each button says which job it acts
 * on, as a screen reader lists a page's buttons by name alone. */
function JobItem({ job, name, announce, onCancel, onOpen }: ItemProps) {
  const progress = job.status === "succeeded" ? 1 : job.progress;
  return (
    <li data-testid={`job-${job.id}`} data-status={job.status}>
      <Body1>
        {name} · {job.status}
      </Body1>
      <ProgressBar
        value={progress}
        max={1}
        color={job.status === "failed" ? "error" : job.status === "succeeded" ? "success" : "brand"}
        aria-label={`${name} progress`}
        aria-valuetext={`${Math.round(progress * 100)} percent`}
      />
      <Caption1 data-testid="job-progress">{Math.round(progress * 100)}%</Caption1>
      <JobUsage job={job} />
      {job.error ? (
        <Caption1 role={announce ? "alert" : undefined} data-testid="job-error">
          {" "}
          {job.error.message}
        </Caption1>
      ) : null}
      {isActive(job) ? (
        <Button size="small" aria-label={`Cancel ${name}`} onClick={() => onCancel(job)}>
          Cancel
        </Button>
      ) : null}
      {job.status === "succeeded" && isExpired(job) ? (
        <Caption1 data-testid="job-expired"> Its result was deleted after the retention period: run it again to get it.</Caption1>
      ) : job.status === "succeeded" ? (
        <Button size="small" appearance="primary" aria-label={`Open result of ${name}`} onClick={() => onOpen(job)}>
          Open result
        </Button>
      ) : null}
    </li>
  );
}

/** The line naming the job's models and its cost (so far), once a call was metered. */
function JobUsage({ job }: { job: Job }) {
  const line = jobUsageLine(job);
  return line ? <Caption1 data-testid="job-usage"> {line}</Caption1> : null;
}
