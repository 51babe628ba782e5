import { type AlertView, type GroupView, renderAlertMessage } from "../../blocks/alert-message.js";
import { enrich } from "../enrich/enrich.js";
import type { KnowledgeBase } from "../enrich/knowledge.js";
import type { AlertStore, GroupInfo, StoredAlert } from "../store/alert-store.js";

export function groupView(group: GroupInfo | null): GroupView | null {
  return group
    ? {
        occurrences: group.occurrences,
        firstSeen: group.firstSeen,
        lastSeen: group.lastSeen,
        samples: group.samples,
      }
    : null;
}

export function viewOf(stored: StoredAlert, kb: KnowledgeBase, group: GroupInfo | null = null): AlertView {
  return {
    alert: stored.alert,
    enrichment: enrich(stored.alert, kb),
    triage: {
      acknowledgedBy: stored.acknowledgedBy,
      acknowledgedAt: stored.acknowledgedAt,
      escalatedBy: stored.escalatedBy,
      escalatedAt: stored.escalatedAt,
    },
    expanded: stored.expanded,
    mitigationInThread: stored.mitigationInThread,
    group: groupView(group),
    silence: stored.silence ?? null,
  };
}

export function renderStored(stored: StoredAlert, kb: KnowledgeBase, group: GroupInfo | null = null) {
  return renderAlertMessage(viewOf(stored, kb, group));
}

/** The stored alert and its group, as the message shows them. */
export async function loadForMessage(
  store: AlertStore,
  uuid: string,
): Promise<{ stored: StoredAlert; group: GroupInfo | null } | null> {
  const [stored, group] = await Promise.all([store.get(uuid), store.group(uuid)]);
  return stored ? { stored, group } : null;
}
