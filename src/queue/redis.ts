import { Redis, type RedisOptions } from "ioredis";

/**
 * Connections for the producer side (HTTP handlers): commands fail at once while Redis is away
 * instead of queueing in memory, so ingest can answer 503 within its deadline.
 */
export function producerConnection(
  url: string,
  name: string,
  opts: { autoPipelining?: boolean } = {},
): Redis {
  const options: RedisOptions = {
    connectionName: name,
    // Commands issued in the same tick (concurrent requests) go out in one write.
    enableAutoPipelining: opts.autoPipelining ?? false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  };
  const redis = new Redis(url, options);
  redis.on("error", () => {
    // Reported through /readyz and 503s; ioredis reconnects by itself.
  });
  return redis;
}

/** Connections for BullMQ workers: BullMQ requires maxRetriesPerRequest null (blocking commands). */
export function workerConnection(url: string, name: string): Redis {
  const redis = new Redis(url, {
    connectionName: name,
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  redis.on("error", () => {
    // ioredis reconnects by itself; the worker resumes when Redis is back.
  });
  return redis;
}

/** How long an HTTP request may wait on Redis before answering 503. */
export const REDIS_DEADLINE_MS = 2000;

/** Rejects when `promise` takes longer than `ms`: a Redis outage must never hang a request. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Waits up to `ms` for the first connection. A Redis that is down at start-up is not fatal: the
 * process starts anyway, answers 503 meanwhile, and ioredis keeps reconnecting.
 */
export async function awaitReady(redis: Redis, ms: number): Promise<boolean> {
  if (redis.status === "ready") return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      redis.off("ready", onReady);
      resolve(false);
    }, ms);
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    redis.once("ready", onReady);
  });
}
