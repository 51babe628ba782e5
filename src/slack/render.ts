import { permalinkOf } from "./permalink.js";
import type { WebClient } from "@slack/web-api";
import { type AlertView, type GroupView, renderAlertMessage } from "../../blocks/alert-message.js";
import type { PreviousOccurrenceView } from "../../blocks/resolution.js";
import { enrich } from "../enrich/enrich.js";
import type { VisibilityLoss } from "../health/state.js";
import type { VisibilityLookup } from "../health/visibility.js";
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

export function viewOf(
  stored: StoredAlert,
  kb: KnowledgeBase,
  group: GroupInfo | null = null,
  previous: PreviousOccurrenceView | null = null,
  visibility: VisibilityLoss | null = null,
): AlertView {
  return {
    alert: stored.alert,
    enrichment: enrich(stored.alert, kb),
    triage: {
      acknowledgedBy: stored.acknowledgedBy,
      acknowledgedAt: stored.acknowledgedAt,
      escalatedBy: stored.escalatedBy,
      escalatedAt: stored.escalatedAt,
      ownedBy: stored.ownedBy,
      ownedAt: stored.ownedAt,
    },
    expanded: stored.expanded,
    mitigationInThread: stored.mitigationInThread,
    group: groupView(group),
    resolution: stored.resolution,
    previous,
    silence: stored.silence ?? null,
    visibility,
  };
}

export function renderStored(
  stored: StoredAlert,
  kb: KnowledgeBase,
  group: GroupInfo | null = null,
  previous: PreviousOccurrenceView | null = null,
  visibility: VisibilityLoss | null = null,
) {
  return renderAlertMessage(viewOf(stored, kb, group, previous, visibility));
}

/**
 * The resolved occurrence an alert's group follows, with Slack's permalink to its message (none
 * without a client, as in preview mode without Slack, or when Slack does not give one).
 */
async function previousOccurrence(
  store: AlertStore,
  stored: StoredAlert,
  client: WebClient | null,
): Promise<PreviousOccurrenceView | null> {
  const uuid = stored.previousOccurrence;
  if (!uuid) return null;
  const previous = await store.get(uuid);
  // Without a link (the message is gone, Slack unreachable) the line names the uuid instead.
  const permalink = client ? await permalinkOf(client, previous?.slack ?? null) : null;
  return { uuid, resolution: previous?.resolution ?? null, permalink };
}

/**
 * The stored alert, its group, the resolved occurrence it follows and the events its host dropped
 * around it (with a `visibility` lookup), as the message shows them.
 */
export async function loadForMessage(
  store: AlertStore,
  uuid: string,
  client: WebClient | null = null,
  visibility?: VisibilityLookup,
): Promise<{
  stored: StoredAlert;
  group: GroupInfo | null;
  previous: PreviousOccurrenceView | null;
  visibility: VisibilityLoss | null;
} | null> {
  const [stored, group] = await Promise.all([store.get(uuid), store.group(uuid)]);
  if (!stored) return null;
  const [previous, loss] = await Promise.all([
    previousOccurrence(store, stored, client),
    visibility ? visibility(stored.alert, stored.receivedAt) : null,
  ]);
  return { stored, group, previous, visibility: loss };
}
