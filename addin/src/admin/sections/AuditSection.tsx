// The audit log: who changed what and when, with the value before and after (the API never includes secrets).
import { Button, Text, Title3 } from "@fluentui/react-components";
import { useCallback, useEffect, useState } from "react";
import type { AdminClient, AuditEvent } from "../api";
import { changeSummary } from "../auditDiff";

export function AuditSection({ client, version }: { client: AdminClient; version: number }) {
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      setEvents(await client.audit(100));
    } catch (error) {
      setProblem(error instanceof Error ? error.message : "The audit log could not load.");
    }
  }, [client]);
  useEffect(() => void load(), [load, version]);

  return (
    <section aria-label="Audit log">
      <Title3>Audit log</Title3>
      <Button onClick={() => void load()}>Refresh</Button>
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
              <td>{event.actor}</td>
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
    </section>
  );
}
