import type { WebClient } from "@slack/web-api";
import type { Logger } from "pino";
import { type SilenceSummary, silenceEndedMessage } from "../../blocks/silence.js";
import type { KnowledgeBase } from "../enrich/knowledge.js";
import type { VisibilityLookup } from "../health/visibility.js";
import { SCOPE_FIELDS, SCOPE_ORDER } from "../silence/scope.js";
import type { Silence } from "../silence/silence.js";
import type { AlertStore } from "../store/alert-store.js";
import type { SilenceStore } from "../store/silences.js";
import { SAFE_POST_OPTIONS } from "./delivery.js";
import { refreshAlertMessage } from "./listeners/message-refresh.js";

/** A silence as the views show it: its matchers labelled, in order, and its count so far. */
export function summaryOf(s: Silence, held: number): SilenceSummary {
  const match = Object.entries(s.match)
    .sort(([a], [b]) => SCOPE_ORDER.indexOf(a) - SCOPE_ORDER.indexOf(b))
    .map(([field, value]) => ({ label: SCOPE_FIELDS.get(field)?.label ?? field, value }));
  return {
    id: s.id,
    rule: s.rule,
    priority: s.priority,
    match,
    createdBy: s.createdBy,
    reason: s.reason,
    endsAt: s.endsAt,
    held,
  };
}

export interface SilenceEndDeps {
  silences: SilenceStore;
  store: AlertStore;
  kb: KnowledgeBase;
  /** null in preview mode without a workspace: the end is recorded, nothing is posted. */
  client: WebClient | null;
  log: Logger;
  /** The events the alert's host dropped around it, which its message keeps mentioning. */
  visibility?: VisibilityLookup;
}

/**
 * The worker's job when a silence is due or was lifted: ends it if it has not ended, then, once
 * across every worker and retry, replies in its alert message's thread with how many alerts it held
 * back and takes the "Silenced" line off the message. A failed reply gives the claim back and
 * throws, so that the job's retry posts it.
 */
export async function endSilence(id: string, deps: SilenceEndDeps): Promise<void> {
  const { silences, log } = deps;
  const ended = await silences.end(id, null);
  if (ended.outcome === "missing") return;
  const silence = await silences.get(id);
  if (!silence) return;
  if (!(await silences.claimEndReport(id, new Date()))) return;
  const client = deps.client;
  try {
    const held = await silences.held(id);
    log.info({ silence: id, held, liftedBy: silence.endedBy || null }, "silence ended");
    if (!client || !silence.message) return;
    const message = silenceEndedMessage(summaryOf(silence, held), {
      by: silence.endedBy || null,
      at: silence.endedAt ?? new Date().toISOString(),
    });
    await client.chat.postMessage({
      channel: silence.message.channel,
      thread_ts: silence.message.ts,
      text: message.text,
      blocks: message.blocks,
      ...SAFE_POST_OPTIONS,
    });
  } catch (error) {
    await silences.releaseEndReport(id);
    throw error;
  }
  // The reply is out; a message that cannot be updated now keeps its line until its next update.
  try {
    if (client && silence.alert) {
      await refreshAlertMessage(client, deps, silence.alert, null);
    }
  } catch (error) {
    log.warn({ err: error, silence: id }, "could not take the silence off the alert's message");
  }
}
