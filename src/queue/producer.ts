import { Queue } from "bullmq";
import type { Priority } from "../falco/priority.js";
import type { RedisClient } from "../redis/connection.js";
import {
  type DeliverJobData,
  deliveryQueueName,
  LIMITER_WINDOW_MS,
  POST_JOB,
  queuePrefix,
  ROLLUP_POST_JOB,
  ROLLUP_UPDATE_JOB,
  UPDATE_JOB,
} from "./names.js";
import { POST_PRIORITIES, postPriority, updatePriority } from "./priority.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How far into its window a turn taken by takeTurn starts (see there). */
const TURN_MARGIN_MS = 250;

/**
 * Adds delivery jobs to the queue of the alert's channel. A post's job id is the alert uuid, so
 * BullMQ itself refuses a second job for one alert; an update's id names the group and the time
 * slot, so a storm adds at most one update per group per slot (the debounce).
 */
export class DeliveryQueues {
  private readonly queues = new Map<string, Queue<DeliverJobData>>();

  constructor(
    private readonly connection: RedisClient,
    private readonly keyPrefix: string,
    /** How often a group's message may be updated while its alerts keep coming. */
    private readonly updateEveryMs: number,
  ) {}

  queue(channel: string): Queue<DeliverJobData> {
    let queue = this.queues.get(channel);
    if (!queue) {
      queue = new Queue<DeliverJobData>(deliveryQueueName(channel), {
        connection: this.connection,
        prefix: queuePrefix(this.keyPrefix),
        // Options set here are copied into every job's hash; what to keep of finished jobs is the
        // workers' setting instead (see worker.ts), which keeps each waiting job smaller.
        defaultJobOptions: {
          attempts: 8,
          backoff: { type: "exponential", delay: 2000 },
        },
        // BullMQ's event stream (for QueueEvents listeners, which this app does not use) keeps 10,000
        // entries by default; a thousand is plenty for the dashboard.
        streams: { events: { maxLen: 1000 } },
      });
      queue.on("error", () => {
        // Connection errors surface as rejected add() calls (503) and in /readyz.
      });
      this.queues.set(channel, queue);
    }
    return queue;
  }

  /**
   * Queues first messages, grouped by channel, each ranked by its alert's Falco priority (see
   * priority.ts): a Critical alert goes ahead of the Notice alerts already waiting in its channel.
   */
  async enqueuePosts(posts: { channel: string; uuid: string; priority: Priority }[]): Promise<void> {
    const byChannel = new Map<string, Map<string, number>>();
    for (const p of posts) {
      const uuids = byChannel.get(p.channel) ?? new Map<string, number>();
      uuids.set(p.uuid, postPriority(p.priority));
      byChannel.set(p.channel, uuids);
    }
    await Promise.all(
      [...byChannel].map(([channel, uuids]) => {
        const queue = this.queue(channel);
        // One job: a plain call. addBulk sends a MULTI, and ioredis copies every script BullMQ
        // defines on the connection into each one.
        if (uuids.size === 1) {
          const [uuid, priority] = [...uuids][0]!;
          return queue.add(POST_JOB, { uuid }, { jobId: uuid, priority });
        }
        return queue.addBulk(
          [...uuids].map(([uuid, priority]) => ({
            name: POST_JOB,
            data: { uuid },
            opts: { jobId: uuid, priority },
          })),
        );
      }),
    );
  }

  /** The update jobs this process has added in the current slot (see enqueueUpdates). */
  private updatesAdded = { slot: -1, ids: new Set<string>() };

  /**
   * Queues one update of each group's message at the end of the current time slot. BullMQ refuses a
   * second job with the same id; the ids this process already added in the slot are not even sent,
   * since in a storm every alert of a group would otherwise cost an add that changes nothing. An
   * update is ranked by the group's Falco priority (see priority.ts).
   */
  async enqueueUpdates(
    updates: { channel: string; leader: string; priority: Priority }[],
    now = Date.now(),
  ): Promise<void> {
    const slot = Math.floor(now / this.updateEveryMs);
    const delay = (slot + 1) * this.updateEveryMs - now;
    if (this.updatesAdded.slot !== slot) this.updatesAdded = { slot, ids: new Set() };
    const added = this.updatesAdded.ids;
    const seen = new Set<string>();
    await Promise.all(
      updates.map(async ({ channel, leader, priority }) => {
        const jobId = `update-${leader}-${slot}`;
        if (seen.has(jobId) || added.has(jobId)) return;
        seen.add(jobId);
        await this.queue(channel).add(
          UPDATE_JOB,
          { uuid: leader },
          { jobId, delay, priority: updatePriority(priority), attempts: 3 },
        );
        added.add(jobId);
      }),
    );
  }

  /**
   * Queues the first message of each new fleet roll-up, ranked like an alert's by its Falco
   * priority. The job id names the roll-up, so that BullMQ refuses a second one whichever process asks.
   */
  async enqueueRollupPosts(posts: { channel: string; rollup: string; priority: Priority }[]): Promise<void> {
    await Promise.all(
      posts.map(({ channel, rollup, priority }) =>
        this.queue(channel).add(
          ROLLUP_POST_JOB,
          { uuid: rollup },
          { jobId: `rollup-${rollup}`, priority: postPriority(priority) },
        ),
      ),
    );
  }

  /** The roll-up update jobs this process has added in the current slot (see enqueueRollupUpdates). */
  private rollupUpdatesAdded = { slot: -1, ids: new Set<string>() };

  /** Queues one update of each roll-up's message at the end of the current slot, as enqueueUpdates does for groups. */
  async enqueueRollupUpdates(
    updates: { channel: string; rollup: string; priority: Priority }[],
    now = Date.now(),
  ): Promise<void> {
    const slot = Math.floor(now / this.updateEveryMs);
    const delay = (slot + 1) * this.updateEveryMs - now;
    if (this.rollupUpdatesAdded.slot !== slot) this.rollupUpdatesAdded = { slot, ids: new Set() };
    const added = this.rollupUpdatesAdded.ids;
    const jobs = new Map<string, { channel: string; rollup: string; priority: Priority }>();
    for (const u of updates) {
      const jobId = `rollup-update-${u.rollup}-${slot}`;
      if (!added.has(jobId)) jobs.set(jobId, u);
    }
    await Promise.all(
      [...jobs].map(async ([jobId, { channel, rollup, priority }]) => {
        await this.queue(channel).add(
          ROLLUP_UPDATE_JOB,
          { uuid: rollup },
          { jobId, delay, priority: updatePriority(priority), attempts: 3 },
        );
        added.add(jobId);
      }),
    );
  }

  /**
   * The alerts waiting to be posted in a channel: its prioritized jobs counted by the ranks only
   * first messages have (a ZCOUNT each), and its plain wait list, which holds only jobs handed back
   * after a worker died (posts, now and then an update). Posts waiting out a retry's backoff among
   * the delayed jobs are left out: the delayed set also holds every debounced update, and telling
   * them apart would mean reading each job.
   */
  async waitingPosts(channel: string): Promise<number> {
    const counts = await this.queue(channel).getCountsPerPriority([0, ...POST_PRIORITIES]);
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  /**
   * Takes a turn in a channel's pace for one message that is no job of the queue (the backlog
   * notice), so that it neither waits behind the channel's jobs nor races them for Slack's one
   * message a second (and mostly loses, with a 429, for as long as the backlog lasts). BullMQ's
   * limiter key exists while a window of the pace is in use; once it is gone, this takes the next
   * window, as Queue.rateLimit would, but only if no worker took it first (SET NX). The window is
   * taken TURN_MARGIN_MS longer than a job's, and the turn starts that much into it: the last job's
   * post may have reached Slack a while after its job started (a cold render takes a hundred
   * milliseconds or more), and the next job starts a full window after the caller posts. Should the
   * workers win every race for a few windows, it gives up, and the caller posts all the same (a 429
   * is tried again at its next check).
   */
  async takeTurn(channel: string, withinMs = 4 * LIMITER_WINDOW_MS): Promise<boolean> {
    const limiter = this.queue(channel).keys.limiter!;
    const deadline = Date.now() + withinMs;
    while (Date.now() < deadline) {
      const taken = await this.connection.set(
        limiter,
        String(Number.MAX_SAFE_INTEGER),
        "PX",
        LIMITER_WINDOW_MS + TURN_MARGIN_MS,
        "NX",
      );
      if (taken) {
        await sleep(TURN_MARGIN_MS);
        return true;
      }
      // Wake a little before the window ends and ask every few milliseconds until it does: the
      // workers wake when it ends, and the first to ask gets the turn.
      const left = await this.connection.pttl(limiter);
      await sleep(left > 15 ? Math.min(left - 10, LIMITER_WINDOW_MS) : 2);
    }
    return false;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
