import { webDarkTheme, webLightTheme } from "@fluentui/react-components";
import { describe, expect, it } from "vitest";
import { ApiProblem } from "../src/api/errors";
import { describeProblem } from "../src/ui/problems";
import { isDark, paintPage, themeForOffice } from "../src/ui/theme";

describe("describeProblem", () => {
  it("gives each failure the user can meet its own state", () => {
    const kinds = [
      new ApiProblem(429, "budget_exhausted", "Monthly budget reached.", undefined, 7200),
      new ApiProblem(503, "all_models_failed", "No model answered."),
      new ApiProblem(0, "offline", "Cannot reach the service."),
      new ApiProblem(401, "unauthorized", "A valid access token is required."),
      new ApiProblem(401, "sign_in_cancelled", "Sign-in was cancelled."),
      new DOMException("aborted", "AbortError"),
      new ApiProblem(422, "invalid_input", "The input is not valid."),
      new TypeError("Word failed"),
    ].map((error) => describeProblem(error).kind);
    expect(kinds).toEqual(["budget", "models", "offline", "sign_in", "sign_in", "stopped", "error", "error"]);
  });

  it("says when the budget allows the next try", () => {
    const view = describeProblem(new ApiProblem(429, "budget_exhausted", "x", undefined, 7200));
    expect(view.message).toContain("Try again in 2 hours.");
  });

  it("says when a rate limit lets the next request through", () => {
    const view = describeProblem(new ApiProblem(429, "rate_limited", "Too many requests.", { limit: 60 }, 2));
    expect(view).toMatchObject({ kind: "budget", title: "Too many requests" });
    expect(view.message).toContain("Try again in 2 seconds.");
  });

  it("offers to run a jobs-only skill as a job", () => {
    const view = describeProblem(new ApiProblem(409, "use_a_job", "This skill runs in the background: create a job with POST /api/jobs."));
    expect(view.kind).toBe("use_a_job");
    expect(view.message).not.toContain("POST /api/jobs");
  });

  it("names the fields of an invalid input", () => {
    const details = { fields: [{ field: "target_language", message: "is required" }, { field: "text", message: "is shorter than 1 characters" }] };
    const view = describeProblem(new ApiProblem(422, "invalid_input", "The input does not match the schema of skill 'translate'.", details));
    expect(view.message).toBe("The input does not match the schema of skill 'translate'. target_language: is required; text: is shorter than 1 characters.");
  });

  it("does not repeat fields the message already names", () => {
    const details = { fields: [{ field: "text", message: "must not be empty" }] };
    const message = "The input does not match the schema of skill 'summarize': text must not be empty.";
    expect(describeProblem(new ApiProblem(422, "invalid_input", message, details)).message).toBe(message);
  });

  it("offers the long-running skill the API names for an input too large to answer directly", () => {
    const details = { size: 90000, limit: 60000, job_skill: "summarize_document" };
    const view = describeProblem(new ApiProblem(413, "input_too_large", "The input is too large... POST /api/jobs.", details));
    expect(view).toMatchObject({ kind: "use_a_job", jobSkill: "summarize_document" });
    expect(view.message).not.toContain("POST /api/jobs");
  });

  it("says that an interrupted answer is incomplete, and offers to try again", () => {
    const view = describeProblem(new ApiProblem(200, "stream_interrupted", "The model stopped answering midway."));
    expect(view).toMatchObject({ kind: "error", title: "The answer was cut off", retry: true });
    expect(view.message).toContain("incomplete");
  });

  it("does not offer to try again an answer the content filter stopped or blocked", () => {
    const stopped = describeProblem(new ApiProblem(200, "stream_interrupted", "The model provider's content filter stopped the answer midway; it is incomplete.", { reason: "content_filter" }));
    expect(stopped).toMatchObject({ title: "The content filter stopped the answer" });
    expect(stopped.retry).toBeFalsy();
    const blocked = describeProblem(new ApiProblem(422, "content_filtered", "The model provider's content filter blocked this request."));
    expect(blocked).toMatchObject({ title: "Blocked by the content filter", message: "The model provider's content filter blocked this request." });
    expect(blocked.retry).toBeFalsy();
  });

  it("offers to try again what a retry may fix, and not what it cannot", () => {
    const retryable = [
      new ApiProblem(0, "offline", "Cannot reach the service."),
      new ApiProblem(503, "all_models_failed", "No allowed model could answer."),
      new ApiProblem(429, "rate_limited", "Too many requests.", undefined, 5),
      new ApiProblem(502, "provider_bad_answer", "The model provider's answer could not be used."),
      new ApiProblem(503, "dependency_unavailable", "The database did not answer.", undefined, 5),
      new ApiProblem(502, "http_502", "Bad Gateway"),
    ];
    expect(retryable.map((error) => describeProblem(error).retry)).toEqual([true, true, true, true, true, true]);
    const final = [
      new ApiProblem(429, "budget_exhausted", "Monthly budget reached.", undefined, 7200),
      new ApiProblem(422, "invalid_input", "The input is not valid."),
      new ApiProblem(413, "input_too_large", "Select a shorter passage."),
    ];
    expect(final.map((error) => describeProblem(error).retry ?? false)).toEqual([false, false, false]);
  });

  it("says the service is restarting when a proxy answers 502/503 with its own page", () => {
    const view = describeProblem(new ApiProblem(503, "http_503", "Service Unavailable"));
    expect(view).toMatchObject({ kind: "unavailable", title: "Switchboard is not available" });
    expect(view.message).not.toContain("Service Unavailable");
    expect(describeProblem(new ApiProblem(503, "dependency_unavailable", "x", undefined, 5)).message).toContain("Try again in 5 seconds.");
  });

  it("titles what the pane refuses itself as such, not as a failed request", () => {
    const titles = ["nothing_selected", "missing_parameters", "target_outside_sheet"].map((code) => describeProblem(new ApiProblem(422, code, "m")).title);
    expect(titles).toEqual(["Select something first", "Fill in the form", "No room for the answer"]);
  });

  it("names a selection too large as such", () => {
    const view = describeProblem(new ApiProblem(413, "input_too_large", "The input is too large for this skill: select a shorter passage.", { size: 9, limit: 5 }));
    expect(view).toMatchObject({ title: "Too much to send", message: "The input is too large for this skill: select a shorter passage." });
  });

  it("offers the job for an answer too long for the output limit, or says to select less", () => {
    const withJob = new ApiProblem(502, "output_truncated", "... POST /api/jobs.", { max_output_tokens: 1024, job_skill: "summarize_document" });
    expect(describeProblem(withJob)).toMatchObject({ kind: "use_a_job", jobSkill: "summarize_document" });
    const view = describeProblem(new ApiProblem(502, "output_truncated", "...", { max_output_tokens: 2048 }));
    expect(view).toMatchObject({ kind: "error", title: "The answer was too long" });
    expect(view.message).toContain("Select less text");
  });

  it("never shows the text of an unexpected exception", () => {
    expect(describeProblem(new Error("secret document text")).message).not.toContain("secret");
  });
});

describe("themeForOffice", () => {
  it("follows a dark Office theme and keeps the light one otherwise", () => {
    expect(isDark("#262626")).toBe(true);
    expect(isDark("#ffffff")).toBe(false);
    expect(themeForOffice({ bodyBackgroundColor: "#262626" }).colorNeutralForeground1).toBe(webDarkTheme.colorNeutralForeground1);
    expect(themeForOffice({ bodyBackgroundColor: "#262626" }).colorNeutralBackground1).toBe("#262626");
    expect(themeForOffice(undefined)).toBe(webLightTheme);
  });

  it("paints the whole page in the theme's background, not only the pane's content", () => {
    const page = { style: {} as Record<string, string> } as unknown as HTMLElement;
    paintPage(themeForOffice({ bodyBackgroundColor: "#262626" }), page);
    expect(page.style).toMatchObject({ backgroundColor: "#262626", colorScheme: "dark" });
    paintPage(webLightTheme, page);
    expect(page.style).toMatchObject({ backgroundColor: webLightTheme.colorNeutralBackground1, colorScheme: "light" });
  });
});

describe("adapterFor", () => {
  it("picks the adapter by host and refuses hosts whose API is too old", async () => {
    const { adapterFor } = await import("../src/hosts");
    const all = () => true;
    expect((adapterFor("Word", all) as { host: string }).host).toBe("word");
    expect((adapterFor("Excel", all) as { host: string }).host).toBe("excel");
    expect(adapterFor("PowerPoint", all)).toBeNull();
    expect(adapterFor("Excel", (name, version) => name === "ExcelApi" && version <= "1.6")).toBe("outdated");
  });
});
