import { type Job, RateLimitError, UnrecoverableError, Worker } from "bullmq";
import type { RedisClient } from "../redis/connection.js";
import type { Logger } from "pino";
import { deliveryFailures } from "../metrics.js";
import type { AlertDelivery, DeliveryOutcome } from "../slack/delivery.js";
import type { RollupDelivery } from "../slack/rollup-delivery.js";
import type { AlertStore } from "../store/alert-store.js";
import {
  type DeliverJobData,
  deliveryQueueName,
  LIMITER_WINDOW_MS,
  queuePrefix,
  ROLLUP_POST_JOB,
  ROLLUP_UPDATE_JOB,
  UPDATE_JOB,
} from "./names.js";

export interface DeliveryWorkerOptions {
  connection: RedisClient;
  keyPrefix: string;
  concurrency: number;
  /**
   * How long a worker's claim on a job lasts without being renewed (JOB_LOCK_SECONDS). BullMQ renews
   * it every half of this while the job runs, so only a worker that died (SIGKILL, lost node) lets it
   * lapse; see lockOptions for when another worker takes the job over.
   */
  lockSeconds: number;
  /** Messages per second into one channel, across every worker process (BullMQ's limiter is global to a queue); null: unlimited. */
  maxPerSecond: number | null;
  delivery: AlertDelivery;
  /** Fleet roll-up messages (roll-up jobs); absent: such jobs fail with a clear error. */
  rollups?: RollupDelivery;
  store: AlertStore;
  log: Logger;
}

/**
 * BullMQ's lock and stalled-job check for JOB_LOCK_SECONDS. A stalled job is found in two sweeps:
 * one marks the active jobs, and a later one hands back those whose lock has lapsed meanwhile (a
 * running job's renewal unmarks it). With the sweep every half of the lock, a job held by a worker
 * that died just after renewing its lock is handed back at most a lock and a half later (15 s for
 * the default 10 s), and then goes first in its channel. A delivery job lasts well under a second,
 * so a short lock costs nothing but a renewal every few seconds while a job runs.
 */
export function lockOptions(lockSeconds: number): { lockDuration: number; stalledInterval: number } {
  return { lockDuration: lockSeconds * 1000, stalledInterval: (lockSeconds * 1000) / 2 };
}

/**
 * Runs one channel's delivery jobs: posts of first messages and updates of group messages. A Slack
 * 429 pauses this channel's queue for Retry-After through BullMQ's rate limiter, which puts the job
 * back without spending one of its attempts; other channels keep going.
 */
export function createDeliveryWorker(
  channel: string,
  options: DeliveryWorkerOptions,
): Worker<DeliverJobData> {
  const { delivery, log, store } = options;
  const run = (job: Job<DeliverJobData>): Promise<DeliveryOutcome> => {
    if (job.name === ROLLUP_POST_JOB || job.name === ROLLUP_UPDATE_JOB) {
      if (!options.rollups) throw new UnrecoverableError("this worker was started without roll-up delivery");
      return job.name === ROLLUP_POST_JOB
        ? options.rollups.post(job.data.uuid, job.id)
        : options.rollups.update(job.data.uuid, job.id);
    }
    return job.name === UPDATE_JOB
      ? delivery.updateGroup(job.data.uuid, job.id)
      : delivery.deliver(job.data.uuid, job.id);
  };
  const worker: Worker<DeliverJobData> = new Worker<DeliverJobData>(
    deliveryQueueName(channel),
    async (job: Job<DeliverJobData>) => {
      const outcome: DeliveryOutcome = await run(job);
      switch (outcome.kind) {
        case "done":
          return;
        case "rate_limited":
          await worker.rateLimit(outcome.retryAfterMs);
          throw new RateLimitError();
        case "permanent_failure":
          throw new UnrecoverableError(outcome.error);
        case "retry":
          throw new Error(outcome.error);
      }
    },
    {
      connection: options.connection,
      prefix: queuePrefix(options.keyPrefix),
      concurrency: options.concurrency,
      // The last thousand delivered jobs and ten thousand failed ones stay inspectable (Bull Board).
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 10000 },
      ...lockOptions(options.lockSeconds),
      ...(options.maxPerSecond
        ? { limiter: { max: options.maxPerSecond, duration: LIMITER_WINDOW_MS } }
        : {}),
      autorun: true,
    },
  );
  worker.on("failed", (job, error) => {
    if (!job) return;
    const final = error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    if (!final || error.name === "RateLimitError") return;
    log.error(
      { uuid: job.data.uuid, jobId: job.id, job: job.name, channel, err: error },
      "delivery failed for good; the alert stays stored",
    );
    // The message exists; only its counter is behind. A roll-up's own record says whether it failed.
    if (job.name === UPDATE_JOB || job.name === ROLLUP_UPDATE_JOB || job.name === ROLLUP_POST_JOB) return;
    deliveryFailures.inc({ error: error.message.slice(0, 60) });
    void store
      .setDelivery(job.data.uuid, { status: "failed", error: error.message, at: new Date().toISOString() })
      .catch(() => {});
  });
  worker.on("error", (error) => log.warn({ err: error, channel }, "delivery worker error"));
  return worker;
}
