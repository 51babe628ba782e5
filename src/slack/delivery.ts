import type { WebClient } from "@slack/web-api";
import type { Logger } from "pino";
import { blocksToText } from "../../blocks/console-preview.js";
import type { Block, SlackMessage } from "../../blocks/limits.js";
import type { KnowledgeBase } from "../enrich/knowledge.js";
import type { AlertStore } from "../store/alert-store.js";
import { classifySlackError } from "./client.js";
import { renderStored } from "./render.js";

/** What the queue worker must do after a delivery attempt. */
export type DeliveryOutcome =
  | { kind: "done" }
  | { kind: "rate_limited"; retryAfterMs: number }
  | { kind: "permanent_failure"; error: string }
  | { kind: "retry"; error: string };

export interface SlackTarget {
  client: WebClient;
  channel: string;
}

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
  ) {}

  async deliver(uuid: string): Promise<DeliveryOutcome> {
    const log = this.log.child({ uuid });
    const stored = await this.store.get(uuid);
    if (!stored) {
      log.warn("alert to deliver is no longer stored; nothing to post");
      return { kind: "done" };
    }
    if (stored.slack) return { kind: "done" };
    const message = renderStored(stored, this.kb);

    if (!this.slack) {
      this.preview(
        `[preview] ${stored.alert.priority} ${stored.alert.rule} (${uuid})\n${blocksToText(message.blocks)}`,
      );
      await this.store.setDelivery(uuid, { status: "preview", error: null, at: new Date().toISOString() });
      return { kind: "done" };
    }

    try {
      const ts = await this.post(message);
      await this.store.setPosted(uuid, { channel: this.slack.channel, ts }, new Date());
      log.info({ channel: this.slack.channel, ts }, "alert posted to Slack");
      return { kind: "done" };
    } catch (error) {
      const info = classifySlackError(error);
      if (info.kind === "rate_limited") {
        log.warn({ retryAfterSeconds: info.retryAfterSeconds }, "Slack rate limit: delaying deliveries");
        return { kind: "rate_limited", retryAfterMs: info.retryAfterSeconds * 1000 };
      }
      if (info.code === "invalid_blocks") return this.postPlain(uuid, stored.alert.rule, message, log);
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

  private async post(message: SlackMessage, blocks: Block[] = message.blocks): Promise<string> {
    const target = this.slack!;
    const result = await target.client.chat.postMessage({
      channel: target.channel,
      text: message.text,
      blocks,
      ...SAFE_POST_OPTIONS,
    });
    if (!result.ts) throw new Error("Slack answered chat.postMessage without a ts");
    return result.ts;
  }

  /**
   * Slack rejected the blocks (a limit we did not foresee): post the same alert with just its header,
   * summary and buttons, so the alert still reaches people. Only if that fails too is it recorded
   * as failed.
   */
  private async postPlain(
    uuid: string,
    rule: string,
    message: SlackMessage,
    log: Logger,
  ): Promise<DeliveryOutcome> {
    log.error({ rule }, "Slack answered invalid_blocks; posting a reduced message instead");
    const reduced = message.blocks.filter((b) => b.type === "header" || b.type === "actions");
    try {
      const ts = await this.post(message, reduced);
      await this.store.setPosted(uuid, { channel: this.slack!.channel, ts }, new Date());
      return { kind: "done" };
    } catch (error) {
      const info = classifySlackError(error);
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
