import { type Job, Queue, Worker } from "bullmq";
import type { Logger } from "pino";
import type { RedisClient } from "../redis/connection.js";
import { queuePrefix } from "./names.js";

/**
 * The queue of Falco's health messages: a repeatable `check` job (the heartbeat check, one run per
 * tick across every worker process, through BullMQ's job scheduler) and `episode` jobs that post or
 * update a host's drops message, debounced per host like a group's updates.
 */
export const HEALTH_QUEUE = "health";
const CHECK_JOB = "check";
const EPISODE_JOB = "episode";
const CHECK_SCHEDULER = "heartbeat-check";

export interface HealthJobData {
  /** For `episode`: the host whose drops message to post or update. */
  host?: string;
}

/** How often the heartbeat is checked: a quarter of the silence that makes an outage, 1 s to 1 min. */
export function checkEveryMs(heartbeatMissingSeconds: number): number {
  return Math.min(60_000, Math.max(1000, Math.round((heartbeatMissingSeconds * 1000) / 4)));
}

export class HealthJobs {
  readonly queue: Queue<HealthJobData>;

  constructor(
    connection: RedisClient,
    keyPrefix: string,
    /** At most one update of a host's drops message per this many ms (GROUP_UPDATE_SECONDS). */
    private readonly updateEveryMs: number,
  ) {
    this.queue = new Queue<HealthJobData>(HEALTH_QUEUE, {
      connection,
      prefix: queuePrefix(keyPrefix),
      defaultJobOptions: { attempts: 6, backoff: { type: "exponential", delay: 2000 } },
      streams: { events: { maxLen: 1000 } },
    });
    this.queue.on("error", () => {
      // Connection errors surface as rejected add() calls.
    });
  }

  /**
   * Queues the post or update of a host's drops message at the end of the current time slot; one
   * job per host and slot however many drop alerts arrive (`hostKey` names the host in the job id).
   */
  async showEpisode(host: string, hostKey: string, now = Date.now()): Promise<void> {
    const slot = Math.floor(now / this.updateEveryMs);
    await this.queue.add(
      EPISODE_JOB,
      { host },
      { jobId: `episode-${hostKey}-${slot}`, delay: (slot + 1) * this.updateEveryMs - now },
    );
  }

  /** Runs the heartbeat check every so often (0: never; the schedule is removed). Idempotent. */
  async scheduleCheck(heartbeatMissingSeconds: number): Promise<void> {
    if (heartbeatMissingSeconds <= 0) {
      await this.queue.removeJobScheduler(CHECK_SCHEDULER);
      return;
    }
    await this.queue.upsertJobScheduler(
      CHECK_SCHEDULER,
      { every: checkEveryMs(heartbeatMissingSeconds) },
      // A failed check is not retried: the next tick does the same work.
      { name: CHECK_JOB, data: {}, opts: { attempts: 1 } },
    );
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

/** Runs the health jobs: `check` the heartbeat check, `episode` a host's drops message. */
export function createHealthWorker(options: {
  connection: RedisClient;
  keyPrefix: string;
  check: () => Promise<void>;
  showEpisode: (host: string) => Promise<void>;
  log: Logger;
}): Worker<HealthJobData> {
  const worker = new Worker<HealthJobData>(
    HEALTH_QUEUE,
    async (job: Job<HealthJobData>) => {
      if (job.name === CHECK_JOB) return options.check();
      if (job.name === EPISODE_JOB && job.data.host !== undefined) return options.showEpisode(job.data.host);
    },
    {
      connection: options.connection,
      prefix: queuePrefix(options.keyPrefix),
      concurrency: 2,
      removeOnComplete: { count: 100 },
      removeOnFail: { count: 1000 },
      autorun: true,
    },
  );
  worker.on("failed", (job, error) => {
    if (job && job.attemptsMade >= (job.opts.attempts ?? 1))
      options.log.error({ job: job.name, host: job.data.host, err: error }, "a health job failed");
  });
  worker.on("error", (error) => options.log.warn({ err: error }, "health worker error"));
  return worker;
}
