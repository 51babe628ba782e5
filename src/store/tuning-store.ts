import { z } from "zod";
import type { FalcoAlert } from "../falco/alert.js";
import type { RedisClient } from "../redis/connection.js";
import { decodeBody } from "./codec.js";
import { StoreKeys } from "./keys.js";

/**
 * Saved Falco exceptions and the drafts of the Tune modal in Redis, and the stored alerts of a rule
 * for replaying one. An exception is kept as JSON in one hash; each change bumps a version counter
 * that every process watches, so that all of them hold back matching alerts.
 */

const exceptionSchema = z.object({
  id: z.string(),
  rule: z.string(),
  name: z.string(),
  fields: z.array(z.string()).min(1),
  comps: z.array(z.enum(["=", "in", "startswith"])).min(1),
  values: z.array(z.union([z.string(), z.array(z.string())])).min(1),
  alertUuid: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
});
export type StoredException = z.infer<typeof exceptionSchema>;

/** A draft lives this long between the replay and Save: longer than anyone looks at a modal. */
export const DRAFT_TTL_SECONDS = 3600;

/** Stored alerts read per round trip while replaying. */
export const REPLAY_CHUNK = 500;

export class TuningStore {
  private readonly keys: StoreKeys;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.keys = new StoreKeys(prefix);
  }

  /** Every saved exception. */
  async list(): Promise<StoredException[]> {
    const hash = await this.redis.hgetall(this.keys.tuningExceptions);
    return Object.values(hash).map((json) => exceptionSchema.parse(JSON.parse(json)));
  }

  async get(id: string): Promise<StoredException | null> {
    const json = await this.redis.hget(this.keys.tuningExceptions, id);
    return json === null ? null : exceptionSchema.parse(JSON.parse(json));
  }

  /** The change counter: differs whenever an exception was saved or withdrawn since it was read. */
  async version(): Promise<string> {
    return (await this.redis.get(this.keys.tuningVersion)) ?? "0";
  }

  async save(exception: StoredException): Promise<void> {
    const json = JSON.stringify(exceptionSchema.parse(exception));
    await this.redis
      .multi()
      .hset(this.keys.tuningExceptions, exception.id, json)
      .incr(this.keys.tuningVersion)
      .exec();
  }

  /** Removes an exception; the one removed, or null when it was not (or no longer) saved. */
  async withdraw(id: string): Promise<StoredException | null> {
    const results = await this.redis
      .multi()
      .hget(this.keys.tuningExceptions, id)
      .hdel(this.keys.tuningExceptions, id)
      .exec();
    const json = results?.[0]?.[1];
    if (typeof json !== "string" || results?.[1]?.[1] !== 1) return null;
    await this.redis.incr(this.keys.tuningVersion);
    return exceptionSchema.parse(JSON.parse(json));
  }

  async saveDraft(id: string, draft: unknown): Promise<void> {
    await this.redis.set(this.keys.tuningDraft(id), JSON.stringify(draft), "EX", DRAFT_TTL_SECONDS);
  }

  /** The draft, parsed by the caller's schema; null when it expired or never existed. */
  async readDraft<T>(id: string, schema: z.ZodType<T>): Promise<T | null> {
    const json = await this.redis.get(this.keys.tuningDraft(id));
    if (json === null) return null;
    const parsed = schema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : null;
  }

  async dropDraft(id: string): Promise<void> {
    await this.redis.del(this.keys.tuningDraft(id));
  }

  /**
   * The rule's stored alerts that arrived since `sinceMs`, oldest first, in chunks of REPLAY_CHUNK
   * (one range read and one MGET each), so that a noisy rule is replayed without holding all of
   * its alerts at once. Alerts whose keys expired meanwhile are skipped.
   */
  async *ruleAlerts(rule: string, sinceMs: number): AsyncGenerator<FalcoAlert[]> {
    const key = this.keys.ruleAlerts(rule);
    let min = String(sinceMs);
    for (;;) {
      const page = await this.redis.zrangebyscore(key, min, "+inf", "WITHSCORES", "LIMIT", 0, REPLAY_CHUNK);
      if (page.length === 0) return;
      const uuids = page.filter((_, i) => i % 2 === 0);
      const bodies = await this.redis.mget(...uuids.map((u) => this.keys.body(u)));
      yield bodies.filter((b): b is string => b !== null).map((b) => decodeBody(b).alert);
      if (uuids.length < REPLAY_CHUNK) return;
      // The next page starts after the last score read; uuids sharing it are read again and skipped.
      const lastScore = page[page.length - 1]!;
      const seen = new Set(uuids.filter((_, i) => page[i * 2 + 1] === lastScore));
      min = `(${lastScore}`;
      const sameScore = await this.redis.zrangebyscore(key, lastScore, lastScore);
      const rest = sameScore.filter((u) => !seen.has(u));
      if (rest.length > 0) {
        const more = await this.redis.mget(...rest.map((u) => this.keys.body(u)));
        yield more.filter((b): b is string => b !== null).map((b) => decodeBody(b).alert);
      }
    }
  }
}
