import { Queue } from "bullmq";
import type { Priority } from "../falco/priority.js";
import type { RedisClient } from "../redis/connection.js";
import { type DeliverJobData, deliveryQueueName, POST_JOB, queuePrefix, UPDATE_JOB } from "./names.js";
import { postPriority, updatePriority } from "./priority.js";

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

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
