import type { WebClient } from "@slack/web-api";
import type { Logger } from "pino";
import { blocksToText, terminalSafe } from "../../blocks/console-preview.js";
import type { Block, SlackMessage } from "../../blocks/limits.js";
import type { KnowledgeBase } from "../enrich/knowledge.js";
import type { Priority } from "../falco/priority.js";
import type { VisibilityLookup } from "../health/visibility.js";
import { enrich } from "../enrich/enrich.js";
import { alertToSlackSeconds, enrichmentMatches, slackCalls } from "../metrics.js";
import { PREVIEW_CHANNEL } from "../queue/names.js";
import type { AlertStore, StoredAlert } from "../store/alert-store.js";
import { classifySlackError, type SlackErrorInfo } from "./client.js";
import { loadForMessage, renderStored } from "./render.js";

/** What the queue worker must do after a delivery attempt. */
export type DeliveryOutcome =
  | { kind: "done" }
  | { kind: "rate_limited"; retryAfterMs: number }
  | { kind: "permanent_failure"; error: string }
  | { kind: "retry"; error: string };

export interface SlackTarget {
  client: WebClient;
  /** Where alerts go that were stored without a routing decision. */
  channel: string;
  /** Preview mode's local workspace rather than Slack: the log says so. */
  local?: boolean;
}

/** A Slack Web API call's answer: its value, or Slack's refusal classified (and what was thrown). */
type Called<T> = { ok: true; value: T } | { ok: false; error: SlackErrorInfo; thrown: unknown };

type SlackMethod = "chat.postMessage" | "chat.update";

/**
 * Queues the follow-up update of a group's message when its counter moved on meanwhile; `priority`
 * is the group's first alert's, which ranks the update in the channel's queue.
 */
export type FollowUp = (channel: string, leader: string, priority: Priority) => Promise<void>;

/** Options that keep Slack from turning anything in the message into links or mentions. */
export const SAFE_POST_OPTIONS = {
  unfurl_links: false,
  unfurl_media: false,
  link_names: false,
  parse: "none",
} as const;

export interface AlertDeliveryOptions {
  store: AlertStore;
  kb: KnowledgeBase;
  /** Where alerts are posted; null: preview mode, which prints them instead. */
  slack: SlackTarget | null;
  log: Logger;
  /** Where preview mode writes rendered messages (stdout by default). */
  preview?: (text: string) => void;
  /** Queues a group's update when its counter moved on while its message was posted or updated. */
  followUp?: FollowUp;
  /** The events the alert's host dropped around it, which its message mentions. */
  visibility?: VisibilityLookup;
}

/**
 * Posts one stored alert to Slack (or, in preview mode, to the log). Idempotent: an alert already
 * posted is not posted again, so a retried or duplicated job cannot double-post.
 */
export class AlertDelivery {
  private readonly store: AlertStore;
  private readonly kb: KnowledgeBase;
  private readonly slack: SlackTarget | null;
  private readonly log: Logger;
  private readonly preview: (text: string) => void;
  private readonly followUp: FollowUp;
  private readonly visibility: VisibilityLookup | undefined;

  constructor(options: AlertDeliveryOptions) {
    this.store = options.store;
    this.kb = options.kb;
    this.slack = options.slack;
    this.log = options.log;
    this.preview = options.preview ?? ((text) => process.stdout.write(`${text}\n\n`));
    this.followUp = options.followUp ?? (async () => {});
    this.visibility = options.visibility;
  }

  private channelOf(stored: StoredAlert): string {
    return stored.channel && stored.channel !== PREVIEW_CHANNEL
      ? stored.channel
      : (this.slack?.channel ?? PREVIEW_CHANNEL);
  }

  /**
   * After the alert's first message was shown (in Slack or in preview): counts it, and if more of its
   * group arrived while it was on its way (`shown` is the count it carries), updates it again.
   */
  private async delivered(stored: StoredAlert, shown: number): Promise<void> {
    const since = Date.parse(stored.receivedAt);
    if (!Number.isNaN(since)) alertToSlackSeconds.observe(Math.max(0, (Date.now() - since) / 1000));
    enrichmentMatches.inc({ match: enrich(stored.alert, this.kb).match });
    await this.catchUp(stored, shown);
  }

  /** After a post or update showed `shown` occurrences: if more arrived meanwhile, update again. */
  private async catchUp(stored: StoredAlert, shown: number): Promise<void> {
    await this.store.setGroupRendered(stored.alert.uuid, shown);
    const now = await this.store.group(stored.alert.uuid);
    if (now && now.occurrences > shown)
      await this.followUp(this.channelOf(stored), stored.alert.uuid, stored.alert.priority);
  }

  /** Posts the first message of an alert (or of the group it leads). Idempotent. */
  async deliver(uuid: string, jobId?: string): Promise<DeliveryOutcome> {
    // Every line about an alert names it, and the queue job that carried it when there is one.
    const log = this.log.child(jobId ? { uuid, jobId } : { uuid });
    const loaded = await loadForMessage(this.store, uuid, this.slack?.client ?? null, this.visibility);
    if (!loaded) {
      log.warn("alert to deliver is no longer stored; nothing to post");
      return { kind: "done" };
    }
    const { stored, group, previous, visibility } = loaded;
    // A later occurrence of a group is shown by the group's message, not a message of its own.
    if (stored.group && stored.group !== uuid) return this.updateGroup(stored.group, jobId);
    if (stored.slack || stored.delivery.status === "preview") return { kind: "done" };
    // A group its rule's fleet roll-up shows has no message of its own (a re-sent copy queues it).
    if (stored.delivery.status === "rolled_up") return { kind: "done" };
    const message = renderStored(stored, this.kb, group, previous, visibility);
    const shown = group?.occurrences ?? 1;

    if (!this.slack) {
      this.preview(
        `[preview] ${stored.alert.priority} ${terminalSafe(stored.alert.rule)} (${uuid})\n${blocksToText(message.blocks)}`,
      );
      await this.store.setDelivery(uuid, { status: "preview", error: null, at: new Date().toISOString() });
      await this.delivered(stored, shown);
      return { kind: "done" };
    }

    const channel = this.channelOf(stored);
    if (stored.postIntentAt) {
      // An earlier attempt died between Slack's answer and recording it: adopt that message.
      const found = await this.findEarlierPost(channel, uuid, stored.postIntentAt, log);
      if (found) {
        await this.store.setPosted(uuid, { channel, ts: found }, new Date());
        log.info({ channel, ts: found }, "found the message an interrupted attempt had posted");
        await this.catchUp(stored, shown);
        return { kind: "done" };
      }
    }
    await this.store.setPostIntent(uuid, new Date());
    const sent = await this.postFirst(channel, stored, message, log);
    if (!sent.ok) return this.postRefused(uuid, sent, log);
    await this.store.setPosted(uuid, { channel, ts: sent.value }, new Date());
    log.info(
      { channel, ts: sent.value },
      this.slack.local ? "alert posted to the local preview workspace" : "alert posted to Slack",
    );
    await this.delivered(stored, shown);
    return { kind: "done" };
  }

  /**
   * Posts an alert's first message. Should Slack reject its blocks (a limit we did not foresee), the
   * alert goes again with just its header and buttons, so that it still reaches people; either post's
   * answer is the caller's to handle, alike.
   */
  private async postFirst(
    channel: string,
    stored: StoredAlert,
    message: SlackMessage,
    log: Logger,
  ): Promise<Called<string>> {
    const uuid = stored.alert.uuid;
    const sent = await this.postMessage(channel, message, message.blocks, uuid);
    if (sent.ok || sent.error.code !== "invalid_blocks") return sent;
    log.error(
      { rule: stored.alert.rule },
      "Slack answered invalid_blocks; posting a reduced message instead",
    );
    const reduced = message.blocks.filter((b) => b.type === "header" || b.type === "actions");
    return this.postMessage(channel, message, reduced, uuid);
  }

  /** Logs why Slack refused the first post, and records the failure when no retry will mend it. */
  private async postRefused(
    uuid: string,
    { error, thrown }: { error: SlackErrorInfo; thrown: unknown },
    log: Logger,
  ): Promise<DeliveryOutcome> {
    if (error.kind === "rate_limited")
      log.warn({ retryAfterSeconds: error.retryAfterSeconds }, "Slack rate limit: delaying deliveries");
    else if (error.kind === "transient")
      log.warn({ err: thrown, slackError: error.code }, "posting to Slack failed; will retry");
    else {
      log.error({ slackError: error.code }, `Slack refused the alert: ${error.hint}`);
      await this.store.setDelivery(uuid, {
        status: "failed",
        error: error.code,
        at: new Date().toISOString(),
      });
    }
    return outcomeOf(error);
  }

  /**
   * Brings a group's message up to date with its occurrences (debounced by the queue). Nothing to do
   * while the first message is not posted yet: posting it shows the count of that moment and
   * queues a follow-up if more arrive.
   */
  async updateGroup(leader: string, jobId?: string): Promise<DeliveryOutcome> {
    const log = this.log.child(jobId ? { uuid: leader, jobId } : { uuid: leader });
    const loaded = await loadForMessage(this.store, leader, this.slack?.client ?? null, this.visibility);
    if (!loaded || !loaded.group) return { kind: "done" };
    const { stored, group, previous, visibility } = loaded;
    if (group.occurrences <= group.rendered) return { kind: "done" };
    const message = renderStored(stored, this.kb, group, previous, visibility);
    if (!this.slack) {
      if (stored.delivery.status !== "preview") return { kind: "done" };
      this.preview(
        `[preview] ${terminalSafe(stored.alert.rule)} (${leader}): now ${group.occurrences} occurrences`,
      );
      await this.catchUp(stored, group.occurrences);
      return { kind: "done" };
    }
    if (!stored.slack) return { kind: "done" };
    const { channel, ts } = stored.slack;
    const updated = await this.call("chat.update", () =>
      this.slack!.client.chat.update({ channel, ts, text: message.text, blocks: message.blocks }),
    );
    if (updated.ok) {
      log.debug({ occurrences: group.occurrences }, "group message updated");
      await this.catchUp(stored, group.occurrences);
      return { kind: "done" };
    }
    const { error } = updated;
    if (error.code === "message_not_found") {
      // Someone deleted the message, or it lived in a preview workspace that is gone: the group's
      // later occurrences must not vanish with it, so the group gets a new message.
      log.warn("the group's Slack message no longer exists; posting a new one");
      await this.store.forgetPost(leader);
      return this.deliver(leader, jobId);
    }
    if (error.kind === "permanent")
      log.error({ slackError: error.code }, `Slack refused to update the group message: ${error.hint}`);
    return outcomeOf(error);
  }

  /**
   * Looks in the channel's recent history for the message carrying this alert's uuid in its metadata.
   * Needs the channels:history (groups:history for private channels) scope; without it the alert is
   * posted again, which is the one duplicate a crash can cause.
   */
  private async findEarlierPost(
    channel: string,
    uuid: string,
    since: string,
    log: Logger,
  ): Promise<string | null> {
    try {
      const oldest = (Date.parse(since) / 1000 - 5).toFixed(6);
      const history = await this.slack!.client.conversations.history({
        channel,
        oldest,
        limit: 200,
        include_all_metadata: true,
      });
      const match = (history.messages ?? []).find(
        (m) => (m.metadata?.event_payload as { uuid?: unknown } | undefined)?.uuid === uuid,
      );
      return match?.ts ?? null;
    } catch (error) {
      log.warn(
        { slackError: classifySlackError(error).code },
        "could not read the channel history to check for an earlier post (add channels:history); posting again",
      );
      return null;
    }
  }

  private postMessage(
    channel: string,
    message: SlackMessage,
    blocks: Block[],
    uuid: string,
  ): Promise<Called<string>> {
    return this.call("chat.postMessage", async () => {
      const result = await this.slack!.client.chat.postMessage({
        channel,
        // Lets a retry after a crash recognise this message as the alert's (see findEarlierPost).
        metadata: { event_type: "falco_alert", event_payload: { uuid } },
        text: message.text,
        blocks,
        ...SAFE_POST_OPTIONS,
      });
      if (!result.ts) throw new Error("Slack answered chat.postMessage without a ts");
      return result.ts;
    });
  }

  /** Makes one Web API call and counts it by outcome; Slack's refusal comes back classified. */
  private async call<T>(method: SlackMethod, send: () => Promise<T>): Promise<Called<T>> {
    try {
      const value = await send();
      slackCalls.inc({ method, outcome: "ok" });
      return { ok: true, value };
    } catch (thrown) {
      const error = classifySlackError(thrown);
      slackCalls.inc({ method, outcome: error.kind === "rate_limited" ? "rate_limited" : error.code });
      return { ok: false, error, thrown };
    }
  }
}

/** What the queue does after Slack refused a call: waits out a 429, gives up on a permanent error, else retries. */
export function outcomeOf(error: SlackErrorInfo): DeliveryOutcome {
  if (error.kind === "rate_limited")
    return { kind: "rate_limited", retryAfterMs: error.retryAfterSeconds * 1000 };
  if (error.kind === "permanent") return { kind: "permanent_failure", error: error.code };
  return { kind: "retry", error: error.code };
}
