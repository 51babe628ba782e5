import { type AlertView, renderAlertMessage } from "../../blocks/alert-message.js";
import { enrich } from "../enrich/enrich.js";
import type { KnowledgeBase } from "../enrich/knowledge.js";
import type { StoredAlert } from "../store/alert-store.js";

export function viewOf(stored: StoredAlert, kb: KnowledgeBase): AlertView {
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
  };
}

export function renderStored(stored: StoredAlert, kb: KnowledgeBase) {
  return renderAlertMessage(viewOf(stored, kb));
}
