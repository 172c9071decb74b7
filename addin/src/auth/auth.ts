// Tokens for the API: Office SSO first; the MSAL dialog when SSO fails with a 13xxx error; the backend's dev endpoint
// in dev mode. A claims challenge from the API is passed back as authChallenge.
import type { TokenProvider, TokenRequest } from "../api/client";
import { ApiProblem } from "../api/errors";
import { DEV_TOKEN_PATH, isLoopback, type PaneConfig } from "../config";
import { dialogToken } from "./dialog";

/** SSO errors where the dialog cannot help: the user cancelled, or a token request is already under way. */
const NO_FALLBACK_CODES = new Set([13002, 13008]);

/** The token provider for the configured mode. */
export function tokenProviderFor(config: PaneConfig, pageOrigin: string, fetchImpl: typeof fetch = (...a) => fetch(...a)): TokenProvider {
  return config.authMode === "dev" ? devTokenProvider(config, pageOrigin, fetchImpl) : ssoTokenProvider(config);
}

/** Office SSO with prompts allowed; the dialog fallback on 13xxx errors (common with some accounts and hosts). */
export function ssoTokenProvider(config: PaneConfig, openDialog = dialogToken): TokenProvider {
  return async (request?: TokenRequest) => {
    try {
      return await OfficeRuntime.auth.getAccessToken({
        allowSignInPrompt: true,
        allowConsentPrompt: true,
        forMSGraphAccess: false, // the pane never asks for Graph: only jobs naming a drive_item call it (on-behalf-of)
        ...(request?.authChallenge ? { authChallenge: request.authChallenge } : {}),
      });
    } catch (error) {
      const code = Number((error as { code?: unknown }).code);
      if (code >= 13000 && code < 14000 && !NO_FALLBACK_CODES.has(code)) return openDialog(config, request?.authChallenge);
      if (code === 13002) throw new ApiProblem(401, "sign_in_cancelled", "Sign-in was cancelled.");
      throw new ApiProblem(401, "sign_in_failed", "Signing in to Office failed. Try again.", { code });
    }
  };
}

/** Dev mode: a token from the backend's loopback-only endpoint, kept until the API refuses it (it expires after an
 * hour) or a claims challenge asks for another. */
export function devTokenProvider(config: PaneConfig, pageOrigin: string, fetchImpl: typeof fetch): TokenProvider {
  let token: Promise<string> | null = null;
  return (request?: TokenRequest) => {
    if (!isLoopback(config.apiBaseUrl, pageOrigin)) {
      return Promise.reject(new ApiProblem(401, "dev_auth_remote", "Dev sign-in works only against a backend on this machine."));
    }
    if (!token || request?.authChallenge || request?.fresh) {
      token = fetchDevToken(config, fetchImpl);
      token.catch(() => (token = null)); // a failed attempt is not cached
    }
    return token;
  };
}

async function fetchDevToken(config: PaneConfig, fetchImpl: typeof fetch): Promise<string> {
  let response: Response;
  try {
    response = await fetchImpl(config.apiBaseUrl + DEV_TOKEN_PATH, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ user: config.devUser, ...(config.devTenant ? { tenant_id: config.devTenant } : {}) }),
    });
  } catch {
    throw new ApiProblem(0, "offline", "The Switchboard service cannot be reached. Check your connection.");
  }
  if (!response.ok) throw new ApiProblem(401, "dev_token_failed", `The dev token endpoint answered ${response.status}.`);
  const body = (await response.json()) as { access_token?: unknown };
  if (typeof body.access_token !== "string") throw new ApiProblem(401, "dev_token_failed", "The dev token endpoint sent no token.");
  return body.access_token;
}
