import type { FalcoAlert } from "../falco/alert.js";
import { alertFamily } from "../falco/family.js";
import type { HealthStore } from "../store/health-store.js";
import { hostOf } from "./signals.js";
import { partialVisibilityText, type VisibilityLoss } from "./state.js";

/** The drops around an alert that its message and report mention; null when there were none. */
export type VisibilityLookup = (alert: FalcoAlert, receivedAt: string) => Promise<VisibilityLoss | null>;

/**
 * Reads an alert's partial visibility from the health store. Syscall drops are lost kernel events:
 * they say nothing of Kubernetes audit, cloud or SaaS events (plugins), whose alerts get no note.
 */
export function visibilityLookup(store: HealthStore): VisibilityLookup {
  return async (alert, receivedAt) => {
    const family = alertFamily(alert);
    if (family !== "syscall" && family !== "other") return null;
    const at = Date.parse(receivedAt);
    if (Number.isNaN(at)) return null;
    return store.partialVisibility(hostOf(alert), at);
  };
}

/** The report's partial-visibility sentence for an alert, or null (no lookup, or no drops). */
export async function partialVisibilityNote(
  lookup: VisibilityLookup | undefined,
  alert: FalcoAlert,
  receivedAt: string,
): Promise<string | null> {
  const loss = lookup ? await lookup(alert, receivedAt) : null;
  return loss ? partialVisibilityText(loss) : null;
}
