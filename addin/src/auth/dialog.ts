// The MSAL fallback: open dialog.html in an Office dialog, let MSAL sign in there, receive the token by messageParent.
import { ApiProblem } from "../api/errors";
import type { PaneConfig } from "../config";

export interface DialogMessage {
  status: "ok" | "error";
  accessToken?: string;
  expiresOn?: number; // epoch milliseconds
  error?: string;
}

let cached: { token: string; expiresOn: number } | null = null;

/** A token from the sign-in dialog, reused until a minute before it expires (unless a challenge demands a new one). */
export function dialogToken(config: PaneConfig, authChallenge?: string): Promise<string> {
  if (cached && !authChallenge && cached.expiresOn - 60_000 > Date.now()) return Promise.resolve(cached.token);
  const url = new URL("dialog.html", window.location.href);
  url.searchParams.set("clientId", config.clientId);
  url.searchParams.set("authority", config.authority);
  url.searchParams.set("scope", `${config.appIdUri}/access_as_user`);
  if (authChallenge) url.searchParams.set("claims", authChallenge);
  return new Promise((resolve, reject) => {
    Office.context.ui.displayDialogAsync(url.toString(), { height: 60, width: 30 }, (opened) => {
      if (opened.status !== Office.AsyncResultStatus.Succeeded) {
        reject(new ApiProblem(401, "sign_in_failed", "The sign-in window could not open. Allow pop-ups and try again."));
        return;
      }
      const dialog = opened.value;
      dialog.addEventHandler(Office.EventType.DialogMessageReceived, (event) => {
        dialog.close();
        const { message: raw, origin } = event as { message?: string; origin?: string };
        // Only the pane's own dialog page may hand over a token: a dialog navigated to another site could send one
        // of its own choosing. Hosts without DialogOrigin 1.1 report no origin.
        const message: DialogMessage = origin === undefined || origin === window.location.origin ? parseMessage(raw) : { status: "error" };
        if (message.status === "ok" && message.accessToken) {
          cached = { token: message.accessToken, expiresOn: message.expiresOn ?? Date.now() + 5 * 60_000 };
          resolve(message.accessToken);
        } else reject(new ApiProblem(401, "sign_in_failed", "Signing in failed. Try again."));
      });
      dialog.addEventHandler(Office.EventType.DialogEventReceived, () => {
        reject(new ApiProblem(401, "sign_in_cancelled", "Sign-in was cancelled."));
      });
    });
  });
}

/** The dialog's message is JSON; anything else is a failed sign-in. */
export function parseMessage(raw: string | undefined): DialogMessage {
  try {
    const value = JSON.parse(raw ?? "") as DialogMessage;
    return value && (value.status === "ok" || value.status === "error") ? value : { status: "error" };
  } catch {
    return { status: "error" };
  }
}
