// The pane's settings: build-time defaults (Vite env) that the page's query string may override for development.

/** The backend's development token endpoint (dev auth mode only, answered on loopback): one constant, one place. */
export const DEV_TOKEN_PATH = "/api/auth/dev-token";

export type AuthMode = "sso" | "dev";

export interface PaneConfig {
  /** Origin of the API; "" means the origin that served the pane (production: the backend serves /addin/). */
  apiBaseUrl: string;
  authMode: AuthMode;
  /** Entra app registration, for the MSAL dialog fallback. */
  clientId: string;
  appIdUri: string;
  authority: string;
  /** Dev mode: the tenant and user to mint a token for ("" lets the backend use its dev tenant). */
  devTenant: string;
  devUser: string;
}

/** Read the configuration from build-time env and the page's query string (`?auth=dev&api=http://127.0.0.1:5000`). */
export function readConfig(search: string, env: Record<string, string | undefined>): PaneConfig {
  const query = new URLSearchParams(search);
  const mode = query.get("auth") ?? env.VITE_AUTH_MODE ?? "sso";
  return {
    apiBaseUrl: (query.get("api") ?? env.VITE_API_BASE_URL ?? "").replace(/\/+$/, ""),
    authMode: mode === "dev" ? "dev" : "sso",
    clientId: env.VITE_ENTRA_CLIENT_ID ?? "",
    appIdUri: env.VITE_ENTRA_APP_ID_URI ?? "",
    authority: env.VITE_ENTRA_AUTHORITY ?? "https://login.microsoftonline.com/organizations",
    devTenant: query.get("tenant") ?? env.VITE_DEV_TENANT ?? "",
    devUser: query.get("user") ?? env.VITE_DEV_USER ?? "dev-user",
  };
}

/** Whether a URL points at this machine, the only place the dev token endpoint may be asked. */
export function isLoopback(url: string, pageOrigin: string): boolean {
  const host = new URL(url || "/", pageOrigin).hostname;
  return host === "127.0.0.1" || host === "localhost" || host === "[::1]" || host === "::1";
}
