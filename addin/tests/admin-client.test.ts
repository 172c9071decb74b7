// @vitest-environment node
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiProblem } from "../src/api/errors";
import { AdminClient } from "../src/admin/api";
import { consoleConfig, devConsoleToken } from "../src/admin/auth";
import { detailsOf } from "../src/admin/settingsForm";
import { readConfig } from "../src/config";
import { LoopbackServer } from "./loopback";

let server: LoopbackServer;
let baseUrl: string;

function json(status: number, body: unknown) {
  return (_request: unknown, response: import("node:http").ServerResponse) =>
    void response.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
}

beforeEach(async () => {
  server = new LoopbackServer();
  baseUrl = await server.start();
});
afterEach(() => server.stop());

describe("AdminClient", () => {
  const client = () => new AdminClient(baseUrl, async () => "admin-token");

  it("reads the settings with the bearer token", async () => {
    server.handler = json(200, { name: "Contoso", version: 3, providers: [] });
    const settings = await client().tenant();
    expect(settings.version).toBe(3);
    expect(server.requests[0]).toMatchObject({ method: "GET", url: "/api/admin/tenant" });
    expect(server.requests[0].headers.authorization).toBe("Bearer admin-token");
  });

  it("sends a PATCH as JSON and turns a 422 into field details", async () => {
    const details = [{ field: "routing/pins/summarize", message: "unknown model nobody/none" }];
    server.handler = json(422, { error: { code: "invalid_settings", message: "The settings are not valid.", details } });
    const failure = await client()
      .updateTenant({ routing: { mode: "pinned", pins: { summarize: ["nobody/none"] } }, expected_version: 3 })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiProblem);
    expect((failure as ApiProblem).code).toBe("invalid_settings");
    expect(detailsOf(failure)).toEqual(details);
    expect(server.requests[0].method).toBe("PATCH");
    expect(server.requests[0].headers["content-type"]).toBe("application/json");
    expect(JSON.parse(server.requests[0].body)).toEqual({ routing: { mode: "pinned", pins: { summarize: ["nobody/none"] } }, expected_version: 3 });
  });

  it("asks for usage with the range and grouping in the query", async () => {
    server.handler = json(200, { from: "2026-11-01", to: "2026-11-28", group_by: "model", rows: [] });
    await client().usage("2026-11-01", "2026-11-28", "model");
    expect(server.requests[0].url).toBe("/api/admin/usage?from=2026-11-01&to=2026-11-28&group_by=model");
  });

  it("tests a provider by its escaped name and lists audit events", async () => {
    server.handler = (request, response) =>
      json(200, request.url.startsWith("/api/admin/audit") ? { events: [{ actor: "user:1", action: "settings.routing", before: {}, after: {} }] } : { ok: false, error: "auth", status: 401 })(request, response);
    expect(await client().testProvider("our gpu")).toEqual({ ok: false, error: "auth", status: 401 });
    expect(server.requests[0]).toMatchObject({ method: "POST", url: "/api/admin/providers/our%20gpu/test" });
    const page = await client().audit(50);
    expect(page.events[0].action).toBe("settings.routing");
    expect(page.next).toBeNull(); // an answer without `next` is the last page
    expect(server.requests[1].url).toBe("/api/admin/audit?limit=50");
  });

  it("pages the audit log with the cursor the last page answered", async () => {
    server.handler = json(200, { events: [{ id: "e3", actor: "user:1", actor_name: "Ann", action: "settings.routing", before: {}, after: {} }], next: "e3" });
    const first = await client().audit(1);
    expect(first).toMatchObject({ next: "e3", events: [{ actor_name: "Ann" }] });
    await client().audit(1, first.next);
    expect(server.requests[1].url).toBe("/api/admin/audit?limit=1&before=e3");
  });

  it("answers 403 as an ApiProblem the console shows as not allowed", async () => {
    server.handler = json(403, { error: { code: "forbidden", message: "Not an admin" } });
    const failure = (await client().catalog().catch((error: unknown) => error)) as ApiProblem;
    expect(failure.status).toBe(403);
  });
});

describe("dev sign-in of the console", () => {
  const config = (search: string) => consoleConfig(readConfig(search, {}), search);

  it("asks for the tenant_admin role by default and for none with admin=0", async () => {
    server.handler = json(200, { access_token: "dev-token" });
    const pageOrigin = baseUrl;
    expect(await devConsoleToken(config(`?auth=dev&user=ann&api=${baseUrl}`), pageOrigin, fetch)()).toBe("dev-token");
    expect(await devConsoleToken(config(`?auth=dev&user=bob&admin=0&api=${baseUrl}`), pageOrigin, fetch)()).toBe("dev-token");
    expect(JSON.parse(server.requests[0].body)).toEqual({ user: "ann", roles: ["tenant_admin"] });
    expect(JSON.parse(server.requests[1].body)).toEqual({ user: "bob", roles: [] });
  });

  it("never asks a remote backend for a dev token", async () => {
    const remote = devConsoleToken(config("?auth=dev&api=https://switchboard.example.com"), "https://switchboard.example.com", fetch);
    await expect(remote()).rejects.toMatchObject({ code: "dev_auth_remote" });
    expect(server.requests).toHaveLength(0);
  });
});
