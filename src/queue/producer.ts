import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { DELIVER_JOB, DELIVERY_QUEUE, type DeliverJobData, queuePrefix } from "./names.js";

/** Adds delivery jobs. The job id is the alert uuid, so BullMQ itself refuses a second job for one alert. */
export class DeliveryQueue {
  readonly queue: Queue<DeliverJobData>;

  constructor(connection: Redis, keyPrefix: string) {
    this.queue = new Queue<DeliverJobData>(DELIVERY_QUEUE, {
      connection,
      prefix: queuePrefix(keyPrefix),
      defaultJobOptions: {
        attempts: 8,
        backoff: { type: "exponential", delay: 2000 },
        removeOnComplete: { count: 1000 },
        removeOnFail: { count: 10000 },
      },
    });
    this.queue.on("error", () => {
      // Connection errors surface as rejected add() calls (503) and in /readyz.
    });
  }

  async enqueue(uuids: string[]): Promise<void> {
    if (uuids.length === 0) return;
    await this.queue.addBulk(
      uuids.map((uuid) => ({ name: DELIVER_JOB, data: { uuid }, opts: { jobId: uuid } })),
    );
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
