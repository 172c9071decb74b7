// The audit log: who made a change by name (the actor id beside it), and paging through `next`.
import { FluentProvider, webLightTheme } from "@fluentui/react-components";
import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AdminClient, AuditEvent, AuditPage } from "../src/admin/api";
import { AuditSection } from "../src/admin/sections/AuditSection";

afterEach(cleanup);

function event(id: string, actor: string, actor_name: string | null = null): AuditEvent {
  return { id, created_at: "2026-11-28T10:00:00Z", actor, actor_name, action: "settings.routing", before: {}, after: {} };
}

interface Pending {
  before: string | null | undefined;
  signal: AbortSignal;
  answer: (page: AuditPage) => void;
}

/** A client whose audit pages the test answers by hand (and which ignores aborts, as a late network answer would). */
function pagedClient() {
  const pending: Pending[] = [];
  const audit = vi.fn(
    (_limit: number, before: string | null | undefined, signal: AbortSignal) => new Promise<AuditPage>((answer) => pending.push({ before, signal, answer })),
  );
  return { client: { audit } as unknown as AdminClient, pending };
}

function renderSection(client: AdminClient, version = 1) {
  return render(
    <FluentProvider theme={webLightTheme}>
      <AuditSection client={client} version={version} />
    </FluentProvider>,
  );
}

const actors = () => screen.getAllByTestId("audit-actor").map((cell) => [cell.firstChild?.textContent, cell.getAttribute("title")]);

describe("AuditSection", () => {
  it("names who made each change, the actor id beside it, or the id alone when no name is known", async () => {
    const { client, pending } = pagedClient();
    renderSection(client);
    await waitFor(() => expect(pending).toHaveLength(1));
    await act(async () => pending[0].answer({ events: [event("e2", "user:oid-2", "Ann Lee"), event("e1", "cli", null)], next: null }));
    expect(actors()).toEqual([
      ["Ann Lee", "user:oid-2"],
      ["cli", "cli"],
    ]);
    expect(screen.getAllByTestId("audit-actor")[0].textContent).toBe("Ann Leeuser:oid-2");
    expect(screen.queryByTestId("audit-more")).toBeNull(); // the last page: nothing more to load
  });

  it("loads the next page from the cursor and appends it, until the last page", async () => {
    const { client, pending } = pagedClient();
    renderSection(client);
    await waitFor(() => expect(pending).toHaveLength(1));
    await act(async () => pending[0].answer({ events: [event("e3", "user:a", "Ann")], next: "e3" }));
    fireEvent.click(screen.getByTestId("audit-more"));
    await waitFor(() => expect(pending).toHaveLength(2));
    expect(pending[1].before).toBe("e3");
    expect((screen.getByTestId("audit-more") as HTMLButtonElement).disabled).toBe(true); // one page at a time
    await act(async () => pending[1].answer({ events: [event("e2", "user:b", "Bob")], next: "e2" }));
    fireEvent.click(screen.getByTestId("audit-more"));
    await waitFor(() => expect(pending).toHaveLength(3));
    expect(pending[2].before).toBe("e2");
    await act(async () => pending[2].answer({ events: [event("e1", "cli")], next: null }));
    expect(actors().map(([name]) => name)).toEqual(["Ann", "Bob", "cli"]);
    expect(screen.queryByTestId("audit-more")).toBeNull();
  });

  it("starts again from the first page after a save, and a page still loading then is dropped", async () => {
    const { client, pending } = pagedClient();
    const view = renderSection(client, 1);
    await waitFor(() => expect(pending).toHaveLength(1));
    await act(async () => pending[0].answer({ events: [event("e3", "user:a", "Ann")], next: "e3" }));
    fireEvent.click(screen.getByTestId("audit-more"));
    await waitFor(() => expect(pending).toHaveLength(2));
    view.rerender(
      <FluentProvider theme={webLightTheme}>
        <AuditSection client={client} version={2} />
      </FluentProvider>,
    );
    await waitFor(() => expect(pending).toHaveLength(3));
    expect([pending[1].signal.aborted, pending[2].before]).toEqual([true, null]);
    await act(async () => pending[2].answer({ events: [event("e4", "user:b", "Bob"), event("e3", "user:a", "Ann")], next: null }));
    await act(async () => pending[1].answer({ events: [event("e2", "cli")], next: "e2" })); // too late: not shown
    expect(actors().map(([name]) => name)).toEqual(["Bob", "Ann"]);
    expect(screen.queryByTestId("audit-more")).toBeNull();
  });
});
