// The audit log: who changed what and when, with the value before and after (the API never includes secrets).
import { Button, Text, Title3 } from "@fluentui/react-components";
import { useCallback, useEffect, useRef, useState } from "react";
import type { AdminClient, AuditEvent } from "../api";
import { changeSummary } from "../auditDiff";
import { LatestRequest } from "../latestRequest";

export const AUDIT_PAGE_SIZE = 100;

/** Who made a change: the user's display name when known, else the actor id (`user:<id>`, `cli`, ...). */
export function actorLabel(event: AuditEvent): string {
  return event.actor_name?.trim() || event.actor;
}

export function AuditSection({ client, version }: { client: AdminClient; version: number }) {
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const latest = useRef(new LatestRequest());

  // The first page (on opening, after a save, on Refresh) or the page after `before` ("Load more"), appended. A
  // reload aborts a page still loading, and only the latest request's answer counts.
  const load = useCallback(
    async (before: string | null) => {
      const signal = latest.current.start();
      setLoading(true);
      setProblem(null);
      try {
        const page = await client.audit(AUDIT_PAGE_SIZE, before, signal);
        if (!latest.current.isCurrent(signal)) return;
        setEvents((shown) => (before ? [...(shown ?? []), ...page.events] : page.events));
        setNext(page.next);
      } catch (error) {
        if (latest.current.isCurrent(signal)) setProblem(error instanceof Error ? error.message : "The audit log could not load.");
      } finally {
        if (latest.current.isCurrent(signal)) setLoading(false);
      }
    },
    [client],
  );
  useEffect(() => void load(null), [load, version]);
  useEffect(() => {
    const requests = latest.current;
    return () => requests.cancel(); // leaving the tab: nothing may arrive after
  }, []);

  return (
    <section aria-label="Audit log">
      <Title3>Audit log</Title3>
      <Button onClick={() => void load(null)}>Refresh</Button>
      {problem ? (
        <Text role="alert" className="admin-error">
          {problem}
        </Text>
      ) : null}
      <table className="admin-table" data-testid="audit-table">
        <thead>
          <tr>
            <th>When (UTC)</th>
            <th>Who</th>
            <th>What</th>
            <th>Before</th>
            <th>After</th>
          </tr>
        </thead>
        <tbody>
          {(events ?? []).map((event, index) => (
            <tr key={event.id ?? index}>
              <td>{(event.created_at ?? event.at ?? "").replace("T", " ").slice(0, 19)}</td>
              <td title={event.actor} data-testid="audit-actor">
                {actorLabel(event)}
                {actorLabel(event) !== event.actor ? (
                  <Text size={200} block className="admin-secondary">
                    {event.actor}
                  </Text>
                ) : null}
              </td>
              <td>
                {event.action}
                <div className="admin-changed">{changeSummary(event.action, event.before, event.after)}</div>
              </td>
              <td>
                <pre className="admin-json">{JSON.stringify(event.before, null, 1)}</pre>
              </td>
              <td>
                <pre className="admin-json">{JSON.stringify(event.after, null, 1)}</pre>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {events && events.length === 0 ? <Text>No changes yet.</Text> : null}
      {next ? (
        <Button onClick={() => void load(next)} disabled={loading} data-testid="audit-more">
          Load more
        </Button>
      ) : null}
    </section>
  );
}
