// Sign-in for the admin console, a plain browser page (no Office): MSAL.js with a redirect in Entra mode, the
// backend's loopback dev-token endpoint in dev mode (asking for the tenant_admin role unless ?admin=0).
import { PublicClientApplication, InteractionRequiredAuthError, type AccountInfo } from "@azure/msal-browser";
import type { TokenProvider, TokenRequest } from "../api/client";
import { ApiProblem } from "../api/errors";
import { DEV_TOKEN_PATH, isLoopback, type PaneConfig } from "../config";

export interface ConsoleConfig extends PaneConfig {
  /** Dev mode: whether the dev token asks for the tenant_admin role. */
  devAdmin: boolean;
}

/** The pane's configuration plus the console's own query parameter (`?admin=0` signs in as a plain user). */
export function consoleConfig(base: PaneConfig, search: string): ConsoleConfig {
  return { ...base, devAdmin: new URLSearchParams(search).get("admin") !== "0" };
}

/** The token provider for the configured mode. */
export function consoleTokenProvider(config: ConsoleConfig, pageOrigin: string, fetchImpl: typeof fetch = (...a) => fetch(...a)): TokenProvider {
  return config.authMode === "dev" ? devConsoleToken(config, pageOrigin, fetchImpl) : msalToken(config);
}

/** Dev mode: one token per page load from the loopback endpoint; a failed attempt is not cached. */
export function devConsoleToken(config: ConsoleConfig, pageOrigin: string, fetchImpl: typeof fetch): TokenProvider {
  let token: Promise<string> | null = null;
  return () => {
    if (!isLoopback(config.apiBaseUrl, pageOrigin)) {
      return Promise.reject(new ApiProblem(401, "dev_auth_remote", "Dev sign-in works only against a backend on this machine."));
    }
    if (!token) {
      token = requestDevToken(config, fetchImpl);
      token.catch(() => (token = null));
    }
    return token;
  };
}

async function requestDevToken(config: ConsoleConfig, fetchImpl: typeof fetch): Promise<string> {
  const body = {
    user: config.devUser,
    roles: config.devAdmin ? ["tenant_admin"] : [],
    ...(config.devTenant ? { tenant_id: config.devTenant } : {}),
  };
  let response: Response;
  try {
    response = await fetchImpl(config.apiBaseUrl + DEV_TOKEN_PATH, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    throw new ApiProblem(0, "offline", "The Switchboard service cannot be reached.");
  }
  if (!response.ok) throw new ApiProblem(401, "dev_token_failed", `The dev token endpoint answered ${response.status}.`);
  const answer = (await response.json()) as { access_token?: unknown };
  if (typeof answer.access_token !== "string") throw new ApiProblem(401, "dev_token_failed", "The dev token endpoint sent no token.");
  return answer.access_token;
}

/** Entra mode: silent first, a full-page redirect when the user must sign in or consent (pop-ups get blocked). */
export function msalToken(config: ConsoleConfig): TokenProvider {
  const scopes = [`${config.appIdUri}/access_as_user`];
  let ready: Promise<PublicClientApplication> | null = null;
  const app = (): Promise<PublicClientApplication> => {
    ready ??= (async () => {
      const msal = new PublicClientApplication({
        auth: { clientId: config.clientId, authority: config.authority, redirectUri: window.location.origin + window.location.pathname },
        cache: { cacheLocation: "sessionStorage" },
      });
      await msal.initialize();
      const result = await msal.handleRedirectPromise(); // back from the sign-in page
      if (result?.account) msal.setActiveAccount(result.account);
      return msal;
    })();
    return ready;
  };
  return async (request?: TokenRequest) => {
    const msal = await app();
    const account: AccountInfo | null = msal.getActiveAccount() ?? msal.getAllAccounts()[0] ?? null;
    const claims = request?.authChallenge;
    if (account) {
      try {
        return (await msal.acquireTokenSilent({ scopes, account, claims, forceRefresh: request?.fresh === true })).accessToken;
      } catch (error) {
        if (!(error instanceof InteractionRequiredAuthError)) throw new ApiProblem(401, "sign_in_failed", "Signing in failed. Try again.");
      }
    }
    await msal.acquireTokenRedirect({ scopes, claims, account: account ?? undefined });
    throw new ApiProblem(401, "sign_in_redirect", "Signing in…"); // the page is navigating away
  };
}
