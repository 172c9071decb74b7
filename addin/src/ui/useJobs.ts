// The jobs panel's data: the caller's jobs, polled while any is queued or running.
import { useCallback, useEffect, useState } from "react";
import type { ApiClient } from "../api/client";
import type { Job, Skill, SkillInput } from "../api/types";
import { isActive } from "./JobsPanel";

const POLL_MS = 1000;

export function useJobs(client: ApiClient | null, onError: (error: unknown) => void) {
  const [jobs, setJobs] = useState<Job[]>([]);

  const upsert = useCallback((job: Job) => {
    setJobs((current) => [job, ...current.filter((j) => j.id !== job.id)].sort(newestFirst));
  }, []);

  const submit = useCallback(
    async (skill: Skill, input: SkillInput) => {
      if (!client) return;
      try {
        upsert(await client.createJob(skill.id, input, crypto.randomUUID()));
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
    const timer = window.setInterval(() => {
      for (const id of activeIds.split(",")) client.job(id).then(upsert, () => undefined); // a missed poll retries next tick
    }, POLL_MS);
    return () => window.clearInterval(timer);
  }, [client, activeIds, upsert]);

  return { jobs, submit, cancel };
}

function newestFirst(a: Job, b: Job): number {
  return (b.created_at ?? "").localeCompare(a.created_at ?? "");
}
