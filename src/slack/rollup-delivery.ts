import type { Logger } from "pino";
import { blocksToText, terminalSafe } from "../../blocks/console-preview.js";
import { renderRollupMessage, type RollupView } from "../../blocks/rollup-message.js";
import type { Priority } from "../falco/priority.js";
import { slackCalls } from "../metrics.js";
import type { RollupInfo, RollupStore } from "../store/rollups.js";
import { classifySlackError } from "./client.js";
import { type DeliveryOutcome, outcomeOf, SAFE_POST_OPTIONS, type SlackTarget } from "./delivery.js";

/** The roll-up as its message shows it. */
export function rollupView(r: RollupInfo): RollupView {
  return {
    id: r.id,
    rule: r.rule,
    priority: r.priority,
    firstSeen: r.firstSeen,
    lastSeen: r.lastSeen,
    occurrences: r.occurrences,
    groups: r.groups,
    hosts: r.hosts,
    pods: r.pods,
    namespaces: r.namespaces,
    open: r.open,
    acknowledgedBy: r.acknowledgedBy,
    acknowledgedAt: r.acknowledgedAt,
    escalatedBy: r.escalatedBy,
    escalatedAt: r.escalatedAt,
    resolution: r.resolution,
  };
}

/** Queues the follow-up update of a roll-up's message when its members moved on meanwhile. */
export type RollupFollowUp = (channel: string, rollup: string, priority: Priority) => Promise<void>;

export interface RollupDeliveryOptions {
  rollups: RollupStore;
  /** Where messages are posted; null: preview mode, which prints them instead. */
  slack: SlackTarget | null;
  log: Logger;
  preview?: (text: string) => void;
  followUp?: RollupFollowUp;
}

/** The metadata a roll-up's message carries, so that a retry after a crash finds it. */
const EVENT_TYPE = "falco_rollup";

/**
 * Posts and updates fleet roll-up messages, as AlertDelivery does for alerts: idempotent (a roll-up
 * posted already is not posted again; an interrupted post is found in the channel's history by its
 * metadata), updates only when its count moved on, and a new message when the old one is gone.
 */
export class RollupDelivery {
  private readonly preview: (text: string) => void;
  private readonly followUp: RollupFollowUp;

  constructor(private readonly options: RollupDeliveryOptions) {
    this.preview = options.preview ?? ((text) => process.stdout.write(`${text}\n\n`));
    this.followUp = options.followUp ?? (async () => {});
  }

  private get store(): RollupStore {
    return this.options.rollups;
  }

  /** After a post or update showed `shown` occurrences: if more arrived meanwhile, update again. */
  private async catchUp(r: RollupInfo, shown: number): Promise<void> {
    await this.store.setRendered(r.id, shown);
    const now = await this.store.get(r.id);
    if (now && now.occurrences > shown) await this.followUp(r.channel, r.id, now.priority);
  }

  /** Posts the roll-up's first message. */
  async post(id: string, jobId?: string): Promise<DeliveryOutcome> {
    const log = this.options.log.child(jobId ? { rollup: id, jobId } : { rollup: id });
    const r = await this.store.get(id);
    if (!r) {
      log.warn("roll-up to post is no longer stored; nothing to post");
      return { kind: "done" };
    }
    if (r.slack || r.delivery.status === "preview") return { kind: "done" };
    const message = renderRollupMessage(rollupView(r));
    const slack = this.options.slack;
    if (!slack) {
      this.preview(`[preview] roll-up ${terminalSafe(r.rule)} (${id})\n${blocksToText(message.blocks)}`);
      await this.store.setDelivery(id, "preview");
      await this.catchUp(r, r.occurrences);
      return { kind: "done" };
    }
    if (r.postIntentAt) {
      const found = await this.findEarlierPost(r.channel, id, r.postIntentAt, log);
      if (found) {
        await this.store.setPosted(id, { channel: r.channel, ts: found });
        await this.catchUp(r, r.occurrences);
        return { kind: "done" };
      }
    }
    await this.store.setPostIntent(id, new Date());
    try {
      const result = await slack.client.chat.postMessage({
        channel: r.channel,
        metadata: { event_type: EVENT_TYPE, event_payload: { rollup: id } },
        text: message.text,
        blocks: message.blocks,
        ...SAFE_POST_OPTIONS,
      });
      slackCalls.inc({ method: "chat.postMessage", outcome: "ok" });
      if (!result.ts) throw new Error("Slack answered chat.postMessage without a ts");
      await this.store.setPosted(id, { channel: r.channel, ts: result.ts });
      log.info({ channel: r.channel, ts: result.ts, hosts: r.hosts.count }, "fleet roll-up posted");
      await this.catchUp(r, r.occurrences);
      return { kind: "done" };
    } catch (thrown) {
      const error = classifySlackError(thrown);
      slackCalls.inc({
        method: "chat.postMessage",
        outcome: error.kind === "rate_limited" ? "rate_limited" : error.code,
      });
      if (error.kind === "permanent") {
        log.error({ slackError: error.code }, `Slack refused the roll-up: ${error.hint}`);
        await this.store.setDelivery(id, "failed", error.code);
      }
      return outcomeOf(error);
    }
  }

  /** Brings the roll-up's message up to date (debounced by the queue); nothing to do before it is posted. */
  async update(id: string, jobId?: string): Promise<DeliveryOutcome> {
    const log = this.options.log.child(jobId ? { rollup: id, jobId } : { rollup: id });
    const r = await this.store.get(id);
    if (!r || r.occurrences <= r.rendered) return { kind: "done" };
    const message = renderRollupMessage(rollupView(r));
    const slack = this.options.slack;
    if (!slack) {
      if (r.delivery.status !== "preview") return { kind: "done" };
      this.preview(
        `[preview] roll-up ${terminalSafe(r.rule)} (${id}): now ${r.hosts.count} hosts, ${r.occurrences} occurrences`,
      );
      await this.catchUp(r, r.occurrences);
      return { kind: "done" };
    }
    if (!r.slack) return { kind: "done" };
    try {
      await slack.client.chat.update({
        channel: r.slack.channel,
        ts: r.slack.ts,
        text: message.text,
        blocks: message.blocks,
      });
      slackCalls.inc({ method: "chat.update", outcome: "ok" });
    } catch (thrown) {
      const error = classifySlackError(thrown);
      slackCalls.inc({
        method: "chat.update",
        outcome: error.kind === "rate_limited" ? "rate_limited" : error.code,
      });
      if (error.code === "message_not_found") {
        log.warn("the roll-up's Slack message no longer exists; posting a new one");
        await this.store.forgetPost(id);
        return this.post(id, jobId);
      }
      if (error.kind === "permanent")
        log.error({ slackError: error.code }, `Slack refused to update the roll-up: ${error.hint}`);
      return outcomeOf(error);
    }
    log.debug({ occurrences: r.occurrences, hosts: r.hosts.count }, "roll-up message updated");
    await this.catchUp(r, r.occurrences);
    return { kind: "done" };
  }

  /** The roll-up's message in the channel's recent history, by its metadata (see AlertDelivery). */
  private async findEarlierPost(
    channel: string,
    id: string,
    since: string,
    log: Logger,
  ): Promise<string | null> {
    try {
      const history = await this.options.slack!.client.conversations.history({
        channel,
        oldest: (Date.parse(since) / 1000 - 5).toFixed(6),
        limit: 200,
        include_all_metadata: true,
      });
      const match = (history.messages ?? []).find(
        (m) =>
          m.metadata?.event_type === EVENT_TYPE &&
          (m.metadata.event_payload as { rollup?: unknown } | undefined)?.rollup === id,
      );
      return match?.ts ?? null;
    } catch (error) {
      log.warn(
        { slackError: classifySlackError(error).code },
        "could not read the channel history to check for an earlier roll-up post; posting again",
      );
      return null;
    }
  }
}
