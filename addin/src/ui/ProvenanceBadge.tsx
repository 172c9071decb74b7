// Which model answered, where it ran, how many tokens it used and what it cost.
import { Badge, Caption1, Tooltip } from "@fluentui/react-components";
import type { ModelInfo, Usage } from "../api/types";

/** Format a cost in US dollars with enough precision for fractions of a cent. */
export function formatCost(usd: number): string {
  if (usd === 0) return "$0";
  return usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

export function ProvenanceBadge({ model, usage }: { model: ModelInfo | null; usage: Usage | null }) {
  if (!model) return null;
  const tokens = usage ? usage.input_tokens + usage.output_tokens : null;
  const detail = usage ? `${usage.input_tokens} in, ${usage.output_tokens} out, ${formatCost(usage.cost_usd)}` : "running";
  return (
    <div className="provenance" data-testid="provenance" aria-label="Provenance of the answer">
      <Tooltip content={`${model.provider}/${model.model} in ${model.location}: ${detail}`} relationship="description">
        <Badge appearance="tint" color="brand" tabIndex={0}>
          {model.model}
        </Badge>
      </Tooltip>
      <Caption1>
        {" "}
        via {model.provider}, ran in {model.location}
        {tokens !== null && usage ? ` · ${tokens} tokens · ${formatCost(usage.cost_usd)}` : ""}
      </Caption1>
    </div>
  );
}
