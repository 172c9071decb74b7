import { webDarkTheme, webLightTheme } from "@fluentui/react-components";
import { describe, expect, it } from "vitest";
import { ApiProblem } from "../src/api/errors";
import { describeProblem } from "../src/ui/problems";
import { isDark, themeForOffice } from "../src/ui/theme";

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

  it("says that an interrupted answer is incomplete", () => {
    const view = describeProblem(new ApiProblem(200, "stream_interrupted", "The model stopped answering midway."));
    expect(view).toMatchObject({ kind: "error", title: "The answer was cut off" });
    expect(view.message).toContain("incomplete");
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
