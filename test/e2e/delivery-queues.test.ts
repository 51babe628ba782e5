import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeliveryQueues } from "../../src/queue/producer.js";
import { dropPrefix, TEST_REDIS_URL, uniquePrefix } from "../../support/redis.js";

const uuid = (i: number) => `0a0a0a0a-0000-4000-8000-${String(i).padStart(12, "0")}`;

describe("a channel's delivery queue in Redis (DeliveryQueues, no worker running)", () => {
  const prefix = uniquePrefix("queues");
  let redis: Redis;
  let queues: DeliveryQueues;
  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
    queues = new DeliveryQueues(redis, prefix, 3000);
  });
  afterAll(async () => {
    await queues.close();
    redis.disconnect();
    await dropPrefix(prefix);
  });

  it("holds the jobs in the order a worker takes them: by Falco priority, then arrival", async () => {
    const channel = "C0ORDER";
    await queues.enqueuePosts([
      { channel, uuid: uuid(1), priority: "Notice" },
      { channel, uuid: uuid(2), priority: "Debug" },
    ]);
    const now = Date.now();
    const slot = Math.floor(now / 3000);
    await queues.enqueueUpdates(
      [
        { channel, leader: uuid(10), priority: "Notice" },
        { channel, leader: uuid(11), priority: "Critical" },
      ],
      now,
    );
    // The debounced updates wait out their slot among the delayed jobs; a worker would move them on.
    const queue = queues.queue(channel);
    for (const job of await queue.getJobs(["delayed"])) await job.promote();
    await queues.enqueuePosts([
      { channel, uuid: uuid(3), priority: "Critical" },
      { channel, uuid: uuid(4), priority: "Notice" },
      { channel, uuid: uuid(5), priority: "Emergency" },
      { channel, uuid: uuid(6), priority: "Error" },
    ]);
    await queues.enqueuePosts([{ channel, uuid: uuid(7), priority: "Critical" }]);

    const order = (await queue.getJobs(["prioritized"], 0, -1, true)).map((j) => j.id);
    expect(order).toEqual([
      uuid(5), // Emergency
      uuid(3), // Critical, then the later Critical
      uuid(7),
      `update-${uuid(11)}-${slot}`, // the Critical group's counter
      uuid(6), // Error
      uuid(1), // Notice, in arrival order
      uuid(4),
      uuid(2), // Debug
      `update-${uuid(10)}-${slot}`, // the Notice group's counter
    ]);
  });

  it("counts the alerts waiting to be posted, not the counter updates", async () => {
    const channel = "C0COUNT";
    expect(await queues.waitingPosts(channel)).toBe(0);
    await queues.enqueuePosts(
      Array.from({ length: 7 }, (_, i) => ({
        channel,
        uuid: uuid(100 + i),
        priority: (["Critical", "Notice", "Debug"] as const)[i % 3]!,
      })),
    );
    await queues.enqueueUpdates([
      { channel, leader: uuid(200), priority: "Critical" },
      { channel, leader: uuid(201), priority: "Warning" },
    ]);
    const queue = queues.queue(channel);
    for (const job of await queue.getJobs(["delayed"])) await job.promote();
    expect(await queue.getJobCountByTypes("prioritized")).toBe(9);
    expect(await queues.waitingPosts(channel)).toBe(7);
  });
});
