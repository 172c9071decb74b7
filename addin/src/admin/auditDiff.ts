// What an audit event changed, as paths (`routing/mode`, `providers/0/enabled`), so the log reads at a glance.

/** Paths where two JSON values differ; [] when they are equal. Arrays compare by index. */
export function changedPaths(before: unknown, after: unknown, prefix = ""): string[] {
  if (Object.is(before, after)) return [];
  const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null;
  if (!isObject(before) || !isObject(after) || Array.isArray(before) !== Array.isArray(after)) return [prefix || "(value)"];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return keys.flatMap((key) => changedPaths(before[key], after[key], prefix ? `${prefix}/${key}` : key));
}

/** The one-line summary of an event: the changed paths, or why nothing visible changed. */
export function changeSummary(action: string, before: unknown, after: unknown): string {
  const paths = changedPaths(before, after);
  if (paths.length) return `changed: ${paths.slice(0, 8).join(", ")}${paths.length > 8 ? ` and ${paths.length - 8} more` : ""}`;
  return action === "settings.providers" ? "a provider key was set or replaced (keys are never shown)" : "no visible change";
}
