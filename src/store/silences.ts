import { readFileSync } from "node:fs";
import { z } from "zod";
import { PRIORITIES } from "../falco/priority.js";
import type { RedisClient } from "../redis/connection.js";
import type { Silence } from "../silence/silence.js";
import { StoreKeys } from "./keys.js";

/** How long an ended silence (and its count of held-back alerts) can still be read. */
export const KEEP_ENDED_SECONDS = 30 * 24 * 60 * 60;

function lua(name: string): string {
  return readFileSync(new URL(`./commands/${name}.lua`, import.meta.url), "utf8");
}

const SCRIPTS = {
  /** Variable number of keys (3, or 4 with the alert): the call passes numkeys first. */
  fcCreateSilence: { lua: lua("createSilence") },
  fcEndSilence: { numberOfKeys: 4, lua: lua("endSilence") },
} as const;

interface SilenceCommands {
  fcCreateSilence(...numKeysKeysAndArgs: string[]): Promise<unknown>;
  fcEndSilence(...keysAndArgs: string[]): Promise<unknown>;
}

/** A silence's hash: every value a string; `match` and `message` as JSON. */
const silenceHash = z.object({
  id: z.string(),
  rule: z.string(),
  priority: z.enum(PRIORITIES),
  match: z.string().transform((text) => z.record(z.string(), z.string()).parse(JSON.parse(text))),
  createdBy: z.string(),
  reason: z.string(),
  createdAt: z.string(),
  endsAt: z.string(),
  endsAtMs: z.string(),
  alert: z.string().transform((v) => v || null),
  message: z
    .string()
    .transform((v) => (v ? z.object({ channel: z.string(), ts: z.string() }).parse(JSON.parse(v)) : null)),
  endedAt: z
    .string()
    .optional()
    .transform((v) => v ?? null),
  /** "" when it expired rather than being lifted. */
  endedBy: z
    .string()
    .optional()
    .transform((v) => v || null),
  reportedAt: z.string().optional(),
});

function decodeSilence(hash: Record<string, string>): Silence | null {
  if (hash.id === undefined) return null;
  const h = silenceHash.parse(hash);
  return {
    id: h.id,
    rule: h.rule,
    priority: h.priority,
    match: h.match,
    createdBy: h.createdBy,
    reason: h.reason,
    createdAt: h.createdAt,
    endsAt: h.endsAt,
    alert: h.alert,
    message: h.message,
    endedAt: h.endedAt,
    endedBy: h.endedBy,
  };
}

function encodeSilence(s: Silence): string[] {
  return Object.entries({
    id: s.id,
    rule: s.rule,
    priority: s.priority,
    match: JSON.stringify(s.match),
    createdBy: s.createdBy,
    reason: s.reason,
    createdAt: s.createdAt,
    endsAt: s.endsAt,
    endsAtMs: String(Date.parse(s.endsAt)),
    alert: s.alert ?? "",
    message: s.message ? JSON.stringify(s.message) : "",
  }).flat();
}

export type EndResult =
  { outcome: "ended"; expired: boolean } | { outcome: "already"; at: string } | { outcome: "missing" };

const endReply = z.union([
  z
    .tuple([z.literal("ended"), z.string()])
    .transform(([, by]): EndResult => ({ outcome: "ended", expired: by === "" })),
  z.tuple([z.literal("already"), z.string()]).transform(([, at]): EndResult => ({ outcome: "already", at })),
  z.tuple([z.literal("missing")]).transform((): EndResult => ({ outcome: "missing" })),
]);

/**
 * Silences in Redis: one hash each, the active ones in a sorted set by when they end, and a version
 * counter raised (and announced on a pub/sub channel) by every change, so that each process keeps
 * its in-memory copy in step.
 */
export class SilenceStore {
  private readonly redis: RedisClient & SilenceCommands;
  readonly keys: StoreKeys;

  constructor(redis: RedisClient, prefix: string) {
    if (!("fcCreateSilence" in redis))
      for (const [name, definition] of Object.entries(SCRIPTS)) redis.defineCommand(name, definition);
    this.redis = redis as RedisClient & SilenceCommands;
    this.keys = new StoreKeys(prefix);
  }

  /** Stores a new silence and marks its alert; false when its id is taken. */
  async create(silence: Silence, now = new Date()): Promise<boolean> {
    const keys = [this.keys.silence(silence.id), this.keys.activeSilences, this.keys.silencesVersion];
    if (silence.alert) keys.push(this.keys.alert(silence.alert));
    const reply = await this.redis.fcCreateSilence(
      String(keys.length),
      ...keys,
      silence.id,
      String(Date.parse(silence.endsAt)),
      silence.endsAt,
      silence.createdBy,
      String(KEEP_ENDED_SECONDS),
      this.keys.silencesChanged,
      String(now.getTime()),
      ...encodeSilence(silence),
    );
    return (
      z
        .tuple([z.enum(["created", "exists"])])
        .rest(z.unknown())
        .parse(reply)[0] === "created"
    );
  }

  /** Ends it once: `by` lifts it (null: it expired); a silence past its end counts as expired. */
  async end(id: string, by: string | null, now = new Date()): Promise<EndResult> {
    return endReply.parse(
      await this.redis.fcEndSilence(
        this.keys.silence(id),
        this.keys.activeSilences,
        this.keys.silencesVersion,
        this.keys.heldCount(id),
        this.keys.alertPrefix,
        id,
        now.toISOString(),
        String(now.getTime()),
        by ?? "",
        this.keys.silencesChanged,
        String(KEEP_ENDED_SECONDS),
      ),
    );
  }

  async get(id: string): Promise<Silence | null> {
    return decodeSilence(await this.redis.hgetall(this.keys.silence(id)));
  }

  /** The silences that have not ended, soonest end first. */
  async active(now = Date.now()): Promise<Silence[]> {
    const ids = await this.redis.zrangebyscore(this.keys.activeSilences, `(${now}`, "+inf");
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.keys.silence(id));
    const results = (await pipeline.exec()) ?? [];
    const out: Silence[] = [];
    for (const [error, hash] of results) {
      if (error) throw error;
      const silence = decodeSilence(hash as Record<string, string>);
      if (silence && !silence.endedAt) out.push(silence);
    }
    return out;
  }

  /** The version every change raises; 0 before the first silence. */
  async version(): Promise<number> {
    return Number((await this.redis.get(this.keys.silencesVersion)) ?? 0);
  }

  /** How many alerts it held back. */
  async held(id: string): Promise<number> {
    return Number((await this.redis.get(this.keys.heldCount(id))) ?? 0);
  }

  /** Claims the one reply saying how many alerts it held back: true for the first caller only. */
  async claimEndReport(id: string, at: Date): Promise<boolean> {
    if (!(await this.redis.exists(this.keys.silence(id)))) return false;
    return (await this.redis.hsetnx(this.keys.silence(id), "reportedAt", at.toISOString())) === 1;
  }

  /** Gives the claim back, when posting the reply failed, so that a retry posts it. */
  async releaseEndReport(id: string): Promise<void> {
    await this.redis.hdel(this.keys.silence(id), "reportedAt");
  }
}
