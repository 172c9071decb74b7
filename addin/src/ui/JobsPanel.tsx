// Long-running work: each job with a progress bar, Cancel while it runs, and Open result when it has succeeded.
import { Body1, Button, Caption1, ProgressBar, Subtitle2 } from "@fluentui/react-components";
import type { Job } from "../api/types";

const ACTIVE = new Set(["queued", "running"]);

/** Whether a job may still change. */
export function isActive(job: Job): boolean {
  return ACTIVE.has(job.status);
}

interface Props {
  jobs: Job[];
  onCancel: (job: Job) => void;
  onOpen: (job: Job) => void;
}

export function JobsPanel({ jobs, onCancel, onOpen }: Props) {
  if (jobs.length === 0) return null;
  return (
    <section className="jobs" aria-label="Jobs" data-testid="jobs">
      <Subtitle2 as="h2">Jobs</Subtitle2>
      <ul>
        {jobs.map((job) => (
          <li key={job.id} data-testid={`job-${job.id}`} data-status={job.status}>
            <Body1>
              {job.skill} · {job.status}
            </Body1>
            <ProgressBar
              value={job.status === "succeeded" ? 1 : job.progress}
              max={1}
              color={job.status === "failed" ? "error" : job.status === "succeeded" ? "success" : "brand"}
              aria-label={`${job.skill} progress`}
              aria-valuetext={`${Math.round(job.progress * 100)} percent`}
            />
            <Caption1 data-testid="job-progress">{Math.round((job.status === "succeeded" ? 1 : job.progress) * 100)}%</Caption1>
            {job.error ? <Caption1 role="alert"> {job.error.message}</Caption1> : null}
            {isActive(job) ? (
              <Button size="small" onClick={() => onCancel(job)}>
                Cancel
              </Button>
            ) : null}
            {job.status === "succeeded" ? (
              <Button size="small" appearance="primary" onClick={() => onOpen(job)}>
                Open result
              </Button>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
