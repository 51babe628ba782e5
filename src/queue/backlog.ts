import type { Logger } from "pino";

/** How often each worker process counts every channel's waiting posts. */
export const BACKLOG_CHECK_EVERY_MS = 5_000;

export interface BacklogWatchOptions {
  channels: readonly string[];
  /** The posts waiting in a channel (DeliveryQueues.waitingPosts). */
  count: (channel: string) => Promise<number>;
  /** What to do with the count (BacklogNotices.check). */
  report: (channel: string, waiting: number) => Promise<void>;
  everyMs?: number;
  log: Logger;
}

/**
 * Counts each channel's waiting posts every few seconds, in the worker process, and hands the count
 * on. Rounds never overlap: the next is timed from the end of the last, so a slow Slack call delays
 * the next check instead of piling checks up. A failed round is logged and the next one goes ahead.
 */
export class BacklogWatch {
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly options: BacklogWatchOptions) {}

  start(): void {
    this.schedule();
  }

  /** One round over every channel (the timer's; tests call it directly). */
  async checkNow(): Promise<void> {
    const { channels, count, report, log } = this.options;
    await Promise.all(
      channels.map(async (channel) => {
        try {
          await report(channel, await count(channel));
        } catch (error) {
          log.warn({ err: error, channel }, "backlog check failed; the next one tries again");
        }
      }),
    );
  }

  /** Stops the timer and waits for a round under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.round;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.round = this.checkNow().finally(() => {
        this.round = null;
        this.schedule();
      });
    }, this.options.everyMs ?? BACKLOG_CHECK_EVERY_MS);
    // The watch alone keeps no process alive.
    this.timer.unref();
  }
}
