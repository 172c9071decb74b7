// The jobs panel's data: the caller's jobs (read again when the pane opens, so a job outlives the pane), polled while
// any is queued or running.
import { useCallback, useEffect, useRef, useState } from "react";
import type { ApiClient } from "../api/client";
import { ApiProblem } from "../api/errors";
import type { Job, Skill, SkillInput } from "../api/types";
import { isActive } from "./JobsPanel";

const POLL_MS = 1000;

export function useJobs(client: ApiClient | null, onError: (error: unknown) => void) {
  const [jobs, setJobs] = useState<Job[]>([]);
  // One idempotency key per request until it has made a job: a retry after a lost answer gets the same job back.
  const keys = useRef(new Map<string, string>());

  const upsert = useCallback((job: Job) => {
    setJobs((current) => {
      // A poll that answered late must not take a job back (its usage so far down, or a finished job to running).
      if (current.some((held) => held.id === job.id && isOlder(job, held))) return current;
      return [job, ...current.filter((j) => j.id !== job.id)].sort(newestFirst);
    });
  }, []);

  // The list is a convenience (the pane works without it), but a pane opened while the backend restarted must still
  // find its jobs: a failed listing is made again by reload(), which the pane calls once the API answers again.
  const listing = useRef<"loading" | "listed" | "failed">("loading");
  const list = useCallback(
    (signal?: AbortSignal) => {
      if (!client) return;
      listing.current = "loading";
      client.jobs(signal).then(
        (listed) => {
          listing.current = "listed";
          setJobs((current) => merge(listed, current));
        },
        () => (listing.current = "failed"),
      );
    },
    [client],
  );
  useEffect(() => {
    const abort = new AbortController();
    list(abort.signal);
    return () => abort.abort();
  }, [list]);
  const reload = useCallback(() => {
    if (listing.current === "failed") list();
  }, [list]);

  const submit = useCallback(
    async (skill: Skill, input: SkillInput) => {
      if (!client) return;
      const request = JSON.stringify([skill.id, input]);
      const key = keys.current.get(request) ?? crypto.randomUUID();
      keys.current.set(request, key);
      try {
        let job: Job;
        try {
          job = await client.createJob(skill.id, input, key);
        } catch (error) {
          // The key was used before for another request (nothing was queued): a fresh key is safe, once.
          if (!(error instanceof ApiProblem && error.code === "idempotency_key_reused")) throw error;
          const fresh = crypto.randomUUID();
          keys.current.set(request, fresh);
          job = await client.createJob(skill.id, input, fresh);
        }
        keys.current.delete(request); // running the same skill on the same text later is a new job
        upsert(job);
      } catch (error) {
        onError(error);
      }
    },
    [client, upsert, onError],
  );

  const cancel = useCallback(
    async (job: Job) => {
      if (!client) return;
      try {
        await client.cancelJob(job.id);
        upsert(await client.job(job.id));
      } catch (error) {
        onError(error);
      }
    },
    [client, upsert, onError],
  );

  const activeIds = jobs.filter(isActive).map((job) => job.id).join(",");
  useEffect(() => {
    if (!client || !activeIds) return;
    // A missed poll retries next tick; a job that is gone (404: deleted, or no longer the caller's) leaves the list.
    const gone = (id: string) => (error: unknown) => {
      if (error instanceof ApiProblem && error.status === 404) setJobs((current) => current.filter((job) => job.id !== id));
    };
    const timer = window.setInterval(() => {
      for (const id of activeIds.split(",")) client.job(id).then(upsert, gone(id));
    }, POLL_MS);
    return () => window.clearInterval(timer);
  }, [client, activeIds, upsert]);

  return { jobs, submit, cancel, reload };
}

/** The listed jobs plus any the pane already holds (submitted while the list loaded), newest first. */
function merge(listed: Job[], current: Job[]): Job[] {
  const ids = new Set(current.map((job) => job.id));
  return [...current, ...listed.filter((job) => !ids.has(job.id))].sort(newestFirst);
}

/** Whether `job` is an earlier state of `held` than the one the pane shows (both read from the API). */
function isOlder(job: Job, held: Job): boolean {
  const [then, shown] = [Date.parse(job.updated_at ?? ""), Date.parse(held.updated_at ?? "")];
  return then < shown; // NaN (no timestamp) compares false: the answer is taken
}

function newestFirst(a: Job, b: Job): number {
  return (b.created_at ?? "").localeCompare(a.created_at ?? "");
}
