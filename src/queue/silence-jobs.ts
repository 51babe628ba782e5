import { type Job, Queue, Worker } from "bullmq";
import type { Logger } from "pino";
import type { RedisClient } from "../redis/connection.js";
import { queuePrefix } from "./names.js";

/** The queue whose delayed jobs end silences: one job per silence, due when it ends. */
export const SILENCE_QUEUE = "silences";
const END_JOB = "end";

export interface SilenceJobData {
  id: string;
}

/**
 * Schedules the end of silences as BullMQ delayed jobs, which live in Redis (so they survive
 * restarts) and are each run by one worker. A silence lifted early gets a second job due at once;
 * whichever runs first reports, the other finds it reported (see SilenceStore.claimEndReport).
 */
export class SilenceJobs {
  readonly queue: Queue<SilenceJobData>;

  constructor(connection: RedisClient, keyPrefix: string) {
    this.queue = new Queue<SilenceJobData>(SILENCE_QUEUE, {
      connection,
      prefix: queuePrefix(keyPrefix),
      defaultJobOptions: { attempts: 8, backoff: { type: "exponential", delay: 2000 } },
      streams: { events: { maxLen: 1000 } },
    });
    this.queue.on("error", () => {});
  }

  /** The job that ends this silence when it is due. */
  async schedule(id: string, endsAt: Date, now = Date.now()): Promise<void> {
    await this.queue.add(END_JOB, { id }, { jobId: `end-${id}`, delay: Math.max(0, endsAt.getTime() - now) });
  }

  /** It was lifted: report its end now, and drop the job due later (a no-op if it already runs). */
  async endNow(id: string): Promise<void> {
    await this.queue.add(END_JOB, { id }, { jobId: `lifted-${id}` });
    await this.queue.remove(`end-${id}`).catch(() => 0);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

/** Runs the silence jobs: `end` ends the silence if it has not ended, and reports it once. */
export function createSilenceWorker(options: {
  connection: RedisClient;
  keyPrefix: string;
  end: (id: string) => Promise<void>;
  log: Logger;
}): Worker<SilenceJobData> {
  const worker = new Worker<SilenceJobData>(
    SILENCE_QUEUE,
    async (job: Job<SilenceJobData>) => options.end(job.data.id),
    {
      connection: options.connection,
      prefix: queuePrefix(options.keyPrefix),
      concurrency: 4,
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 1000 },
      autorun: true,
    },
  );
  worker.on("failed", (job, error) => {
    if (job && job.attemptsMade >= (job.opts.attempts ?? 1))
      options.log.error({ silence: job.data.id, err: error }, "ending a silence failed for good");
  });
  worker.on("error", (error) => options.log.warn({ err: error }, "silence worker error"));
  return worker;
}
