import type { WebClient } from "@slack/web-api";
import type { Logger } from "pino";
import { renderBacklogNotice } from "../../blocks/backlog-notice.js";
import type { BacklogNoticeStore, NoticeOutcome } from "../store/backlog-notices.js";
import { classifySlackError } from "./client.js";
import { SAFE_POST_OPTIONS } from "./delivery.js";

/** The count in a notice changes no more often than this (each change is a chat.update). */
export const NOTICE_UPDATE_EVERY_MS = 10_000;

export interface BacklogNoticesOptions {
  client: WebClient;
  store: BacklogNoticeStore;
  /** The channels' pace, SLACK_MAX_POSTS_PER_SECOND. */
  postsPerSecond: number;
  /** BACKLOG_NOTICE_SECONDS: a notice once more posts wait than the pace gets through in this long. */
  noticeSeconds: number;
  /**
   * Called before the notice is posted: takes a turn in the channel's pace for it
   * (DeliveryQueues.takeTurn), since Slack takes about one message a second in a channel, queued or not.
   */
  makeRoom?: (channel: string) => Promise<void>;
  log: Logger;
  now?: () => Date;
}

/**
 * Tells a channel when its alerts are held up: one message, posted once more alerts wait than the
 * channel's pace posts in BACKLOG_NOTICE_SECONDS, its count updated as it moves (at most every
 * NOTICE_UPDATE_EVERY_MS) and marked cleared once no more than a sixth of that wait (ten seconds'
 * worth by default). It is posted straight from the check, not queued behind the backlog it
 * announces, in a turn of the channel's pace taken for it; a 429 or any other refusal is simply tried
 * again at the next check. The store decides
 * which worker process talks to Slack, so that a channel gets one notice however many there are.
 */
export class BacklogNotices {
  private readonly threshold: number;
  private readonly clearAt: number;
  private readonly now: () => Date;

  constructor(private readonly options: BacklogNoticesOptions) {
    this.threshold = options.postsPerSecond * options.noticeSeconds;
    this.clearAt = Math.floor(this.threshold / 6);
    this.now = options.now ?? (() => new Date());
  }

  /** Brings the channel's notice in step with the posts waiting there. */
  async check(channel: string, waiting: number): Promise<void> {
    const { store, client, postsPerSecond, log } = this.options;
    const at = this.now();
    const task = await store.claim(channel, {
      waiting,
      threshold: this.threshold,
      clearAt: this.clearAt,
      updateEveryMs: NOTICE_UPDATE_EVERY_MS,
      now: at,
    });
    if (task.kind === "none") return;
    const message = renderBacklogNotice({
      waiting,
      peak: task.peak,
      postsPerSecond,
      at,
      state: task.kind === "clear" ? "cleared" : "waiting",
    });
    let outcome: NoticeOutcome;
    try {
      if (task.kind === "post") {
        await this.options.makeRoom?.(channel);
        const posted = await client.chat.postMessage({
          channel,
          text: message.text,
          blocks: message.blocks,
          ...SAFE_POST_OPTIONS,
        });
        if (!posted.ts) throw new Error("Slack answered chat.postMessage without a ts");
        outcome = { kind: "posted", ts: posted.ts, shown: waiting };
        log.info({ channel, waiting, ts: posted.ts }, "backlog notice posted");
      } else {
        await client.chat.update({ channel, ts: task.ts, text: message.text, blocks: message.blocks });
        outcome = task.kind === "clear" ? { kind: "cleared" } : { kind: "updated", shown: waiting };
        if (task.kind === "clear") log.info({ channel, peak: task.peak }, "backlog notice marked cleared");
      }
    } catch (error) {
      const info = classifySlackError(error);
      // Deleted by someone: a later backlog gets a new notice. Anything else: the next check retries.
      outcome = info.code === "message_not_found" ? { kind: "gone" } : { kind: "failed" };
      log.warn(
        { channel, slackError: info.code, notice: task.kind },
        "backlog notice not sent; the next check tries again",
      );
    }
    await store.settle(channel, task.claim, outcome, this.now());
  }
}
