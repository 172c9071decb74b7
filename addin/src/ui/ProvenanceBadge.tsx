// Which model answered, where it ran, how many tokens it used and what it cost: shown in full, never in a tooltip
// (a tooltip would cover the buttons under it and hide the facts from keyboard users). A provider's notice (the
// bundled demo model says not to rely on it) is shown beside it, as plainly.
import { Badge, Caption1 } from "@fluentui/react-components";
import type { ModelInfo, Usage } from "../api/types";

/** A cost in US dollars: cents for a cent or more, four decimals for fractions of a cent, two significant digits
 * below that ("$0.000012": a small model's call), and "< $0.000001" below that: never "$0.0000", which would read
 * as a call that cost nothing. */
export function formatCost(usd: number | null | undefined): string {
  if (typeof usd !== "number" || !Number.isFinite(usd)) return "cost unknown";
  if (usd === 0) return "$0";
  if (usd >= 0.01) return `$${usd.toFixed(2)}`;
  if (usd >= 0.0001) return `$${usd.toFixed(4)}`;
  return usd < 0.000001 ? "< $0.000001" : `$${usd.toPrecision(2)}`;
}

/** A token count with thousands separators ("12,345"). */
export function formatTokens(count: number): string {
  return count.toLocaleString("en");
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
        {usage && tokens !== null
          ? `${model ? " · " : ""}${formatTokens(tokens)} tokens (${formatTokens(usage.input_tokens)} in, ${formatTokens(usage.output_tokens)} out) · ${formatCost(usage.cost_usd)}`
          : ""}
      </Caption1>
      {model?.notice ? (
        <Caption1 className="provenance-notice" data-testid="model-notice">
          {model.notice}
        </Caption1>
      ) : null}
    </div>
  );
}
