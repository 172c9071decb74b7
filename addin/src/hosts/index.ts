// Choosing the adapter for the host the pane runs in: a lookup, never a chain of ifs through the code.
import { ExcelHost } from "./excel";
import type { HostAdapter } from "./types";
import { WordHost } from "./word";

const ADAPTERS: Record<string, () => HostAdapter> = {
  Word: () => new WordHost(),
  Excel: () => new ExcelHost(),
};

/** The adapter for Office.context.host (a HostType value: "Word", "Excel"), or null for any other host. */
export function adapterFor(host: string | undefined | null): HostAdapter | null {
  const make = host ? ADAPTERS[host] : undefined;
  return make ? make() : null;
}
