import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";

/** A connection to one Redis, or to a Redis Cluster (REDIS_CLUSTER): the app uses either alike. */
export type RedisClient = Redis | Cluster;

/**
 * A cluster client seeded with the node REDIS_URL names; ioredis discovers the others and follows
 * MOVED/ASK. The URL's user, password and TLS (rediss://) apply to every node.
 */
function clusterClient(url: string, redisOptions: RedisOptions, options: ClusterOptions): Cluster {
  const u = new URL(url);
  return new Cluster([{ host: u.hostname, port: Number(u.port || 6379) }], {
    ...options,
    redisOptions: {
      ...redisOptions,
      username: u.username ? decodeURIComponent(u.username) : undefined,
      password: u.password ? decodeURIComponent(u.password) : undefined,
      tls: u.protocol === "rediss:" ? {} : undefined,
    },
  });
}

/** Reconnection delay after the n-th failed attempt: quick at first, then every 2 s. */
const reconnectDelay = (times: number) => Math.min(times * 200, 2000);

/**
 * Connections for the producer side (HTTP handlers): commands fail at once while Redis is away
 * instead of queueing in memory, so ingest can answer 503 within its deadline.
 */
export function producerConnection(url: string, name: string, opts: { cluster?: boolean } = {}): RedisClient {
  const options: RedisOptions = {
    connectionName: name,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 2000,
  };
  const client = { enableOfflineQueue: false };
  const redis: RedisClient = opts.cluster
    ? clusterClient(url, options, { ...client, clusterRetryStrategy: reconnectDelay })
    : new Redis(url, { ...options, ...client, retryStrategy: reconnectDelay });
  redis.on("error", () => {
    // Reported through /readyz and 503s; ioredis reconnects by itself.
  });
  return redis;
}

/** Connections for BullMQ workers: BullMQ requires maxRetriesPerRequest null (blocking commands). */
export function workerConnection(url: string, name: string, opts: { cluster?: boolean } = {}): RedisClient {
  const options: RedisOptions = { connectionName: name, maxRetriesPerRequest: null };
  const redis: RedisClient = opts.cluster
    ? clusterClient(url, options, { clusterRetryStrategy: reconnectDelay })
    : new Redis(url, { ...options, retryStrategy: reconnectDelay });
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
export async function awaitReady(redis: RedisClient, ms: number): Promise<boolean> {
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
