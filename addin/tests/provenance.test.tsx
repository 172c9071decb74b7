import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { formatCost, ProvenanceBadge } from "../src/ui/ProvenanceBadge";

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
});
