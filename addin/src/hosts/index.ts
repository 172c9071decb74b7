// Choosing the adapter for the host the pane runs in: a lookup, never a chain of ifs through the code. Each host
// names the requirement set its adapter needs (the manifest cannot require a per-host set for a two-host add-in).
import { ExcelHost } from "./excel";
import type { HostAdapter } from "./types";
import { WordHost } from "./word";

interface HostEntry {
  make: () => HostAdapter;
  requirementSet: [name: string, version: string];
}

const HOSTS: Record<string, HostEntry> = {
  Word: { make: () => new WordHost(), requirementSet: ["WordApi", "1.3"] },
  Excel: { make: () => new ExcelHost(), requirementSet: ["ExcelApi", "1.7"] },
};

/** The adapter for Office.context.host ("Word", "Excel"); null for another host; "outdated" when its API is too old. */
export function adapterFor(host: string | undefined | null, isSetSupported: (name: string, version: string) => boolean): HostAdapter | "outdated" | null {
  const entry = host ? HOSTS[host] : undefined;
  if (!entry) return null;
  return isSetSupported(...entry.requirementSet) ? entry.make() : "outdated";
}
