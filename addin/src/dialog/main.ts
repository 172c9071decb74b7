// The sign-in dialog page: MSAL redirects to Entra and back here, then the token goes to the pane via messageParent.
import { PublicClientApplication } from "@azure/msal-browser";
import type { DialogMessage } from "../auth/dialog";

/** Sign in (or finish the redirect) and send the result to the task pane. */
async function signIn(): Promise<void> {
  const params = new URLSearchParams(window.location.search);
  const stored = JSON.parse(sessionStorage.getItem("switchboard.dialog") ?? "{}") as Record<string, string>;
  const clientId = params.get("clientId") ?? stored.clientId;
  const authority = params.get("authority") ?? stored.authority;
  const scope = params.get("scope") ?? stored.scope;
  const claims = params.get("claims") ?? stored.claims ?? undefined;
  // The redirect drops the query string: keep the parameters for the return trip.
  sessionStorage.setItem("switchboard.dialog", JSON.stringify({ clientId, authority, scope, claims: claims ?? "" }));
  const msal = new PublicClientApplication({
    auth: { clientId, authority, redirectUri: window.location.origin + window.location.pathname },
    cache: { cacheLocation: "sessionStorage" },
  });
  await msal.initialize();
  const result = await msal.handleRedirectPromise();
  if (result) {
    send({ status: "ok", accessToken: result.accessToken, expiresOn: result.expiresOn?.getTime() });
    return;
  }
  await msal.loginRedirect({ scopes: [scope], claims: claims || undefined });
}

function send(message: DialogMessage): void {
  Office.context.ui.messageParent(JSON.stringify(message));
}

Office.onReady(() => {
  signIn().catch(() => send({ status: "error", error: "sign_in_failed" }));
});
