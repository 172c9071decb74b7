// Which model answered, where it ran, how many tokens it used and what it cost: shown in full, never in a tooltip
// (a tooltip would cover the buttons under it and hide the facts from keyboard users).
import { Badge, Caption1 } from "@fluentui/react-components";
import type { ModelInfo, Usage } from "../api/types";

/** Format a cost in US dollars with enough precision for fractions of a cent. */
export function formatCost(usd: number): string {
  if (usd === 0) return "$0";
  return usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

export function ProvenanceBadge({ model, usage }: { model: ModelInfo | null; usage: Usage | null }) {
  if (!model && !usage) return null;
  const tokens = usage ? usage.input_tokens + usage.output_tokens : null;
  return (
    <div className="provenance" data-testid="provenance" role="group" aria-label="Provenance of the answer">
      {model ? (
        <Badge appearance="tint" color="brand">
          {model.model}
        </Badge>
      ) : null}
      <Caption1>
        {model ? `via ${model.provider}, ran in ${model.location}` : ""}
        {usage && tokens !== null ? `${model ? " · " : ""}${tokens} tokens (${usage.input_tokens} in, ${usage.output_tokens} out) · ${formatCost(usage.cost_usd)}` : ""}
      </Caption1>
    </div>
  );
}
