import type { WebClient } from "@slack/web-api";
import type { Logger } from "pino";
import { blocksToText, terminalSafe } from "../../blocks/console-preview.js";
import type { Block, SlackMessage } from "../../blocks/limits.js";
import type { KnowledgeBase } from "../enrich/knowledge.js";
import { enrich } from "../enrich/enrich.js";
import { alertToSlackSeconds, enrichmentMatches, slackCalls } from "../metrics.js";
import { PREVIEW_CHANNEL } from "../queue/names.js";
import type { AlertStore, StoredAlert } from "../store/alert-store.js";
import { classifySlackError } from "./client.js";
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

/** Queues the follow-up update of a group's message when its counter moved on meanwhile. */
export type FollowUp = (channel: string, leader: string) => Promise<void>;

/** Options that keep Slack from turning anything in the message into links or mentions. */
export const SAFE_POST_OPTIONS = {
  unfurl_links: false,
  unfurl_media: false,
  link_names: false,
  parse: "none",
} as const;

/**
 * Posts one stored alert to Slack (or, in preview mode, to the log). Idempotent: an alert already
 * posted is not posted again, so a retried or duplicated job cannot double-post.
 */
export class AlertDelivery {
  constructor(
    private readonly store: AlertStore,
    private readonly kb: KnowledgeBase,
    private readonly slack: SlackTarget | null,
    private readonly log: Logger,
    /** Where preview mode writes rendered messages. */
    private readonly preview: (text: string) => void = (text) => process.stdout.write(`${text}\n\n`),
    private readonly followUp: FollowUp = async () => {},
  ) {}

  private channelOf(stored: StoredAlert): string {
    return stored.channel && stored.channel !== PREVIEW_CHANNEL
      ? stored.channel
      : (this.slack?.channel ?? PREVIEW_CHANNEL);
  }

  private posted(stored: StoredAlert): void {
    const since = Date.parse(stored.receivedAt);
    if (!Number.isNaN(since)) alertToSlackSeconds.observe(Math.max(0, (Date.now() - since) / 1000));
    enrichmentMatches.inc({ match: enrich(stored.alert, this.kb).match });
  }

  /** After a post or update showed `shown` occurrences: if more arrived meanwhile, update again. */
  private async catchUp(stored: StoredAlert, shown: number): Promise<void> {
    await this.store.setGroupRendered(stored.alert.uuid, shown);
    const now = await this.store.group(stored.alert.uuid);
    if (now && now.occurrences > shown) await this.followUp(this.channelOf(stored), stored.alert.uuid);
  }

  /** Posts the first message of an alert (or of the group it leads). Idempotent. */
  async deliver(uuid: string, jobId?: string): Promise<DeliveryOutcome> {
    // Every line about an alert names it, and the queue job that carried it when there is one.
    const log = this.log.child(jobId ? { uuid, jobId } : { uuid });
    const loaded = await loadForMessage(this.store, uuid);
    if (!loaded) {
      log.warn("alert to deliver is no longer stored; nothing to post");
      return { kind: "done" };
    }
    const { stored, group } = loaded;
    // A later occurrence of a group is shown by the group's message, not a message of its own.
    if (stored.group && stored.group !== uuid) return this.updateGroup(stored.group, jobId);
    if (stored.slack || stored.delivery.status === "preview") return { kind: "done" };
    const message = renderStored(stored, this.kb, group);
    const shown = group?.occurrences ?? 1;

    if (!this.slack) {
      this.preview(
        `[preview] ${stored.alert.priority} ${terminalSafe(stored.alert.rule)} (${uuid})\n${blocksToText(message.blocks)}`,
      );
      await this.store.setDelivery(uuid, { status: "preview", error: null, at: new Date().toISOString() });
      this.posted(stored);
      await this.catchUp(stored, shown);
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
    try {
      const ts = await this.post(channel, message, message.blocks, uuid);
      await this.store.setPosted(uuid, { channel, ts }, new Date());
      this.posted(stored);
      log.info(
        { channel, ts },
        this.slack.local ? "alert posted to the local preview workspace" : "alert posted to Slack",
      );
      await this.catchUp(stored, shown);
      return { kind: "done" };
    } catch (error) {
      const info = classifySlackError(error);
      slackCalls.inc({
        method: "chat.postMessage",
        outcome: info.kind === "rate_limited" ? "rate_limited" : info.code,
      });
      if (info.kind === "rate_limited") {
        log.warn({ retryAfterSeconds: info.retryAfterSeconds }, "Slack rate limit: delaying deliveries");
        return { kind: "rate_limited", retryAfterMs: info.retryAfterSeconds * 1000 };
      }
      if (info.code === "invalid_blocks")
        return this.postPlain(uuid, channel, stored.alert.rule, message, log);
      if (info.kind === "permanent") {
        log.error({ slackError: info.code }, `Slack refused the alert: ${info.hint}`);
        await this.store.setDelivery(uuid, {
          status: "failed",
          error: info.code,
          at: new Date().toISOString(),
        });
        return { kind: "permanent_failure", error: info.code };
      }
      log.warn({ err: error, slackError: info.code }, "posting to Slack failed; will retry");
      return { kind: "retry", error: info.code };
    }
  }

  /**
   * Brings a group's message up to date with its occurrences (debounced by the queue). Nothing to do
   * while the first message is not posted yet: posting it shows the count of that moment and
   * queues a follow-up if more arrive.
   */
  async updateGroup(leader: string, jobId?: string): Promise<DeliveryOutcome> {
    const log = this.log.child(jobId ? { uuid: leader, jobId } : { uuid: leader });
    const loaded = await loadForMessage(this.store, leader);
    if (!loaded || !loaded.group) return { kind: "done" };
    const { stored, group } = loaded;
    if (group.occurrences <= group.rendered) return { kind: "done" };
    const message = renderStored(stored, this.kb, group);
    if (!this.slack) {
      if (stored.delivery.status !== "preview") return { kind: "done" };
      this.preview(
        `[preview] ${terminalSafe(stored.alert.rule)} (${leader}): now ${group.occurrences} occurrences`,
      );
      await this.catchUp(stored, group.occurrences);
      return { kind: "done" };
    }
    if (!stored.slack) return { kind: "done" };
    try {
      await this.slack.client.chat.update({
        channel: stored.slack.channel,
        ts: stored.slack.ts,
        text: message.text,
        blocks: message.blocks,
      });
      slackCalls.inc({ method: "chat.update", outcome: "ok" });
      log.debug({ occurrences: group.occurrences }, "group message updated");
      await this.catchUp(stored, group.occurrences);
      return { kind: "done" };
    } catch (error) {
      const info = classifySlackError(error);
      slackCalls.inc({
        method: "chat.update",
        outcome: info.kind === "rate_limited" ? "rate_limited" : info.code,
      });
      if (info.code === "message_not_found") {
        // Someone deleted the message, or it lived in a preview workspace that is gone: the group's
        // later occurrences must not vanish with it, so the group gets a new message.
        log.warn("the group's Slack message no longer exists; posting a new one");
        await this.store.forgetPost(leader);
        return this.deliver(leader, jobId);
      }
      if (info.kind === "rate_limited")
        return { kind: "rate_limited", retryAfterMs: info.retryAfterSeconds * 1000 };
      if (info.kind === "permanent") {
        log.error({ slackError: info.code }, `Slack refused to update the group message: ${info.hint}`);
        return { kind: "permanent_failure", error: info.code };
      }
      return { kind: "retry", error: info.code };
    }
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

  private async post(
    channel: string,
    message: SlackMessage,
    blocks: Block[] = message.blocks,
    uuid?: string,
  ): Promise<string> {
    const target = this.slack!;
    const result = await target.client.chat.postMessage({
      channel,
      // Lets a retry after a crash recognise this message as the alert's (see findEarlierPost).
      ...(uuid ? { metadata: { event_type: "falco_alert", event_payload: { uuid } } } : {}),
      text: message.text,
      blocks,
      ...SAFE_POST_OPTIONS,
    });
    if (!result.ts) throw new Error("Slack answered chat.postMessage without a ts");
    slackCalls.inc({ method: "chat.postMessage", outcome: "ok" });
    return result.ts;
  }

  /**
   * Slack rejected the blocks (a limit we did not foresee): post the same alert with just its header,
   * summary and buttons, so the alert still reaches people. Only if that fails too is it recorded
   * as failed.
   */
  private async postPlain(
    uuid: string,
    channel: string,
    rule: string,
    message: SlackMessage,
    log: Logger,
  ): Promise<DeliveryOutcome> {
    log.error({ rule }, "Slack answered invalid_blocks; posting a reduced message instead");
    const reduced = message.blocks.filter((b) => b.type === "header" || b.type === "actions");
    try {
      const ts = await this.post(channel, message, reduced, uuid);
      await this.store.setPosted(uuid, { channel, ts }, new Date());
      return { kind: "done" };
    } catch (error) {
      const info = classifySlackError(error);
      slackCalls.inc({
        method: "chat.postMessage",
        outcome: info.kind === "rate_limited" ? "rate_limited" : info.code,
      });
      if (info.kind === "rate_limited")
        return { kind: "rate_limited", retryAfterMs: info.retryAfterSeconds * 1000 };
      await this.store.setDelivery(uuid, {
        status: "failed",
        error: info.code,
        at: new Date().toISOString(),
      });
      return { kind: "permanent_failure", error: info.code };
    }
  }
}
