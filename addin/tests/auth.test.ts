// @vitest-environment node
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { devTokenProvider, ssoTokenProvider } from "../src/auth/auth";
import { ApiProblem } from "../src/api/errors";
import { DEV_TOKEN_PATH, readConfig } from "../src/config";
import { LoopbackServer } from "./loopback";

type Options = Record<string, unknown>;
let calls: Options[];

function office(result: (options: Options) => Promise<string>) {
  calls = [];
  Object.assign(globalThis, { OfficeRuntime: { auth: { getAccessToken: (options: Options) => (calls.push(options), result(options)) } } });
}

const config = readConfig("", {});

describe("ssoTokenProvider", () => {
  it("asks Office for a token with prompts allowed and passes a claims challenge on", async () => {
    office(async (options) => (options.authChallenge ? "stepped-up" : "sso-token"));
    const provider = ssoTokenProvider(config, async () => "dialog");
    expect(await provider()).toBe("sso-token");
    expect(await provider({ authChallenge: "claims-json" })).toBe("stepped-up");
    expect(calls[0]).toEqual({ allowSignInPrompt: true, allowConsentPrompt: true, forMSGraphAccess: false });
    expect(calls[1].authChallenge).toBe("claims-json");
  });

  it("falls back to the MSAL dialog on a 13xxx error, with the challenge", async () => {
    office(async () => Promise.reject({ code: 13003, message: "user type not supported" }));
    const dialogCalls: (string | undefined)[] = [];
    const provider = ssoTokenProvider(config, async (_config, challenge) => (dialogCalls.push(challenge), "dialog-token"));
    expect(await provider({ authChallenge: "c" })).toBe("dialog-token");
    expect(dialogCalls).toEqual(["c"]);
  });

  it("does not open the dialog when the user cancelled sign-in", async () => {
    office(async () => Promise.reject({ code: 13002 }));
    const provider = ssoTokenProvider(config, async () => "dialog-token");
    await expect(provider()).rejects.toMatchObject({ code: "sign_in_cancelled" });
  });
});

describe("devTokenProvider", () => {
  let server: LoopbackServer;
  let base: string;
  beforeEach(async () => {
    server = new LoopbackServer();
    base = await server.start();
  });
  afterEach(() => server.stop());

  it(`posts to ${DEV_TOKEN_PATH} on loopback once and reuses the token`, async () => {
    server.handler = (_req, res) => res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ access_token: "dev-jwt" }));
    const provider = devTokenProvider({ ...config, apiBaseUrl: base, authMode: "dev" }, "https://localhost:3000", fetch);
    expect(await provider()).toBe("dev-jwt");
    expect(await provider()).toBe("dev-jwt");
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([`POST ${DEV_TOKEN_PATH}`]);
    expect(JSON.parse(server.requests[0].body)).toEqual({ user: "dev-user" });
  });

  it("fetches a new token when the API refused the one it holds (it expired)", async () => {
    const tokens = ["dev-jwt-1", "dev-jwt-2"];
    server.handler = (_req, res) => res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ access_token: tokens.shift() }));
    const provider = devTokenProvider({ ...config, apiBaseUrl: base, authMode: "dev" }, "https://localhost:3000", fetch);
    expect(await provider()).toBe("dev-jwt-1");
    expect(await provider({ fresh: true })).toBe("dev-jwt-2");
    expect(await provider()).toBe("dev-jwt-2");
    expect(server.requests).toHaveLength(2);
  });

  it("refuses a backend that is not on this machine", async () => {
    const provider = devTokenProvider({ ...config, apiBaseUrl: "https://switchboard.example.com", authMode: "dev" }, "https://localhost:3000", fetch);
    const error = await provider().catch((e: ApiProblem) => e);
    expect((error as ApiProblem).code).toBe("dev_auth_remote");
  });

  it("does not cache a failure", async () => {
    let fail = true;
    server.handler = (_req, res) => {
      if (fail) res.writeHead(404).end();
      else res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ access_token: "second" }));
    };
    const provider = devTokenProvider({ ...config, apiBaseUrl: base, authMode: "dev" }, "https://localhost:3000", fetch);
    await expect(provider()).rejects.toMatchObject({ code: "dev_token_failed" });
    fail = false;
    expect(await provider()).toBe("second");
  });
});
