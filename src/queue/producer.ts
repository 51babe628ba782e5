import { Queue } from "bullmq";
import type { RedisClient } from "../redis/connection.js";
import {
  type DeliverJobData,
  deliveryQueueName,
  POST_JOB,
  POST_PRIORITY,
  queuePrefix,
  ROLLUP_POST_JOB,
  ROLLUP_UPDATE_JOB,
  UPDATE_JOB,
  UPDATE_PRIORITY,
} from "./names.js";

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

  /** Queues first messages, grouped by channel. */
  async enqueuePosts(posts: { channel: string; uuid: string }[]): Promise<void> {
    const byChannel = new Map<string, Set<string>>();
    for (const p of posts) {
      const uuids = byChannel.get(p.channel) ?? new Set<string>();
      uuids.add(p.uuid);
      byChannel.set(p.channel, uuids);
    }
    await Promise.all(
      [...byChannel].map(([channel, uuids]) => {
        const queue = this.queue(channel);
        // One job: a plain call. addBulk sends a MULTI, and ioredis copies every script BullMQ
        // defines on the connection into each one.
        if (uuids.size === 1) {
          const [uuid] = uuids;
          return queue.add(POST_JOB, { uuid: uuid! }, { jobId: uuid!, priority: POST_PRIORITY });
        }
        return queue.addBulk(
          [...uuids].map((uuid) => ({
            name: POST_JOB,
            data: { uuid },
            opts: { jobId: uuid, priority: POST_PRIORITY },
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
   * since in a storm every alert of a group would otherwise cost an add that changes nothing.
   */
  async enqueueUpdates(updates: { channel: string; leader: string }[], now = Date.now()): Promise<void> {
    const slot = Math.floor(now / this.updateEveryMs);
    const delay = (slot + 1) * this.updateEveryMs - now;
    if (this.updatesAdded.slot !== slot) this.updatesAdded = { slot, ids: new Set() };
    const added = this.updatesAdded.ids;
    const seen = new Set<string>();
    await Promise.all(
      updates.map(async ({ channel, leader }) => {
        const jobId = `update-${leader}-${slot}`;
        if (seen.has(jobId) || added.has(jobId)) return;
        seen.add(jobId);
        await this.queue(channel).add(
          UPDATE_JOB,
          { uuid: leader },
          { jobId, delay, priority: UPDATE_PRIORITY, attempts: 3 },
        );
        added.add(jobId);
      }),
    );
  }

  /**
   * Queues the first message of each new fleet roll-up. The job id names the roll-up, so that BullMQ
   * refuses a second one whichever process asks.
   */
  async enqueueRollupPosts(posts: { channel: string; rollup: string }[]): Promise<void> {
    await Promise.all(
      posts.map(({ channel, rollup }) =>
        this.queue(channel).add(
          ROLLUP_POST_JOB,
          { uuid: rollup },
          { jobId: `rollup-${rollup}`, priority: POST_PRIORITY },
        ),
      ),
    );
  }

  /** The roll-up update jobs this process has added in the current slot (see enqueueRollupUpdates). */
  private rollupUpdatesAdded = { slot: -1, ids: new Set<string>() };

  /** Queues one update of each roll-up's message at the end of the current slot, as enqueueUpdates does for groups. */
  async enqueueRollupUpdates(
    updates: { channel: string; rollup: string }[],
    now = Date.now(),
  ): Promise<void> {
    const slot = Math.floor(now / this.updateEveryMs);
    const delay = (slot + 1) * this.updateEveryMs - now;
    if (this.rollupUpdatesAdded.slot !== slot) this.rollupUpdatesAdded = { slot, ids: new Set() };
    const added = this.rollupUpdatesAdded.ids;
    const jobs = new Map<string, { channel: string; rollup: string }>();
    for (const u of updates) {
      const jobId = `rollup-update-${u.rollup}-${slot}`;
      if (!added.has(jobId)) jobs.set(jobId, u);
    }
    await Promise.all(
      [...jobs].map(async ([jobId, { channel, rollup }]) => {
        await this.queue(channel).add(
          ROLLUP_UPDATE_JOB,
          { uuid: rollup },
          { jobId, delay, priority: UPDATE_PRIORITY, attempts: 3 },
        );
        added.add(jobId);
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
