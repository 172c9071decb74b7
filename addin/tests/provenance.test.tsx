import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { formatCost, ProvenanceBadge } from "../src/ui/ProvenanceBadge";

afterEach(cleanup);

describe("ProvenanceBadge", () => {
  it("shows the model, where it ran, tokens and cost", () => {
    render(
      <ProvenanceBadge
        model={{ provider: "local", model: "llama-3-8b", location: "on-prem" }}
        usage={{ input_tokens: 120, output_tokens: 30, cost_usd: 0.0004 }}
      />,
    );
    const badge = screen.getByTestId("provenance");
    expect(badge.textContent).toBe("llama-3-8bvia local, ran in on-prem · 150 tokens (120 in, 30 out) · $0.0004");
  });

  it("formats cents and dollars", () => {
    expect([formatCost(0), formatCost(0.004), formatCost(1.5)]).toEqual(["$0", "$0.0040", "$1.50"]);
  });

  it("never shows a tiny cost as $0.0000, nor a missing one as a crash", () => {
    expect([formatCost(0.000012), formatCost(0.00000004), formatCost(undefined)]).toEqual(["$0.000012", "< $0.000001", "cost unknown"]);
  });

  it("separates thousands in token counts", () => {
    render(<ProvenanceBadge model={null} usage={{ input_tokens: 12000, output_tokens: 345, cost_usd: 0.02 }} />);
    expect(screen.getByTestId("provenance").textContent).toBe("12,345 tokens (12,000 in, 345 out) · $0.02");
  });

  it("shows the model's own notice (the bundled demo model says not to rely on it)", () => {
    const notice = "Gemma 3 270M, a tiny demo-grade model running locally: do not rely on its answers.";
    render(<ProvenanceBadge model={{ provider: "local", model: "gemma-3-270m", location: "on-prem", notice }} usage={null} />);
    expect(screen.getByTestId("model-notice").textContent).toBe(notice);
  });
});
