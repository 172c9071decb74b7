import { describe, expect, it, vi } from "vitest";
import { dialogToken } from "../src/auth/dialog";
import { readConfig } from "../src/config";

type Handler = (event: { message?: string; origin?: string }) => void;

/** An Office host whose sign-in dialog opens at once; `answer` plays the dialog's messageParent. */
function officeWithDialog() {
  const handlers = new Map<string, Handler>();
  const dialog = { addEventHandler: (type: string, handler: Handler) => handlers.set(type, handler), close: vi.fn() };
  Object.assign(globalThis, {
    Office: {
      AsyncResultStatus: { Succeeded: "succeeded" },
      EventType: { DialogMessageReceived: "message", DialogEventReceived: "event" },
      context: { ui: { displayDialogAsync: (_url: string, _options: unknown, opened: (r: unknown) => void) => opened({ status: "succeeded", value: dialog }) } },
    },
  });
  return { dialog, answer: (event: { message?: string; origin?: string }) => handlers.get("message")?.(event) };
}

const config = readConfig("", {});
const signedIn = JSON.stringify({ status: "ok", accessToken: "token-from-dialog", expiresOn: Date.now() + 3_600_000 });

describe("dialogToken", () => {
  it("refuses a token sent by a page of another origin (the dialog navigated away)", async () => {
    const { dialog, answer } = officeWithDialog();
    const token = dialogToken(config, "challenge");
    answer({ message: signedIn, origin: "https://evil.example" });
    await expect(token).rejects.toMatchObject({ code: "sign_in_failed" });
    expect(dialog.close).toHaveBeenCalled();
  });

  it("takes the token from the pane's own dialog page, and from hosts that do not report an origin", async () => {
    const own = officeWithDialog();
    const fromOwnPage = dialogToken(config, "challenge");
    own.answer({ message: signedIn, origin: window.location.origin });
    expect(await fromOwnPage).toBe("token-from-dialog");
    const older = officeWithDialog();
    const fromOlderHost = dialogToken(config, "challenge");
    older.answer({ message: signedIn });
    expect(await fromOlderHost).toBe("token-from-dialog");
  });
});
