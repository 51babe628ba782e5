import type { Redis } from "ioredis";
import type { FalcoAlert } from "../falco/alert.js";
import { parseJsonLossless, stringifyLossless } from "../falco/json.js";

export type AlertState = "new" | "acknowledged" | "escalated";

export interface SlackRef {
  channel: string;
  ts: string;
}

export interface Delivery {
  status: "pending" | "posted" | "preview" | "failed";
  error: string | null;
  at: string | null;
}

/** An alert as stored, with what people and the worker did to it. */
export interface StoredAlert {
  alert: FalcoAlert;
  receivedAt: string;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  escalatedBy: string | null;
  escalatedAt: string | null;
  escalation: SlackRef | null;
  slack: SlackRef | null;
  expanded: boolean;
  /** The mitigation steps were too long for the message and were posted in its thread. */
  mitigationInThread: boolean;
  delivery: Delivery;
}

export function stateOf(stored: StoredAlert): AlertState {
  if (stored.escalatedBy) return "escalated";
  if (stored.acknowledgedBy) return "acknowledged";
  return "new";
}

export type CreateOutcome = "new" | "undelivered" | "duplicate";

export type ClaimResult =
  | { outcome: "claimed"; at: string }
  | { outcome: "already"; by: string; at: string }
  | { outcome: "missing" };

/** How many uuids `/falco recent` and the prefix index keep; older alerts stay readable by full uuid. */
const RECENT_LIMIT = 1000;

// Creates the alert only if its uuid is new, and indexes it, in one atomic step. Returns 1 when new,
// 2 when already stored but not yet delivered (its job may have been lost: enqueue again, BullMQ's
// job id keeps that idempotent), 0 when already stored and handled.
const CREATE_SCRIPT = `
if redis.call('HSETNX', KEYS[1], 'alert', ARGV[1]) == 0 then
  local delivery = redis.call('HGET', KEYS[1], 'delivery') or ''
  if string.find(delivery, '"pending"', 1, true) then return 2 end
  return 0
end
redis.call('HSET', KEYS[1], 'receivedAt', ARGV[2], 'delivery', ARGV[5])
redis.call('ZADD', KEYS[2], 0, ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[3])
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -${RECENT_LIMIT + 1})
return 1`;

// First caller wins: sets who and when, or reports who already did it.
const CLAIM_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local by = redis.call('HGET', KEYS[1], ARGV[1])
if by then return {'already', by, redis.call('HGET', KEYS[1], ARGV[2]) or ''} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3], ARGV[2], ARGV[4])
return {'claimed'}`;

// Writes fields only while the alert still exists (an expired alert is not resurrected half-empty).
const UPDATE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1`;

interface Scripts {
  fcCreate(alertKey: string, idsKey: string, recentKey: string, ...args: string[]): Promise<number>;
  fcClaim(alertKey: string, ...args: string[]): Promise<string[]>;
  fcUpdate(alertKey: string, ...args: string[]): Promise<number>;
}

/** Alerts and their triage state in Redis. Keys start with `<prefix>:` so deployments and tests can share a server. */
export class AlertStore {
  private readonly redis: Redis & Scripts;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    if (!("fcCreate" in redis)) {
      redis.defineCommand("fcCreate", { numberOfKeys: 3, lua: CREATE_SCRIPT });
      redis.defineCommand("fcClaim", { numberOfKeys: 1, lua: CLAIM_SCRIPT });
      redis.defineCommand("fcUpdate", { numberOfKeys: 1, lua: UPDATE_SCRIPT });
    }
    this.redis = redis as Redis & Scripts;
  }

  private alertKey(uuid: string): string {
    return `${this.prefix}:alert:${uuid}`;
  }
  private get idsKey(): string {
    return `${this.prefix}:alerts:ids`;
  }
  private get recentKey(): string {
    return `${this.prefix}:alerts:recent`;
  }

  /**
   * Stores each alert unless its uuid is already stored. One round trip for the whole batch.
   * Per alert: `new`, `undelivered` (stored before, still waiting for delivery) or `duplicate`.
   */
  async createMany(alerts: FalcoAlert[], receivedAt: Date): Promise<CreateOutcome[]> {
    const pipeline = this.redis.pipeline() as unknown as Scripts & {
      exec(): Promise<[Error | null, unknown][] | null>;
    };
    const pending = stringifyLossless({ status: "pending", error: null, at: null } satisfies Delivery);
    for (const alert of alerts) {
      void pipeline.fcCreate(
        this.alertKey(alert.uuid),
        this.idsKey,
        this.recentKey,
        stringifyLossless(alert),
        receivedAt.toISOString(),
        alert.uuid,
        String(receivedAt.getTime()),
        pending,
      );
    }
    const results = await pipeline.exec();
    if (!results) throw new Error("Redis pipeline was aborted");
    return results.map(([error, value]) => {
      if (error) throw error;
      return value === 1 ? "new" : value === 2 ? "undelivered" : "duplicate";
    });
  }

  async get(uuid: string): Promise<StoredAlert | null> {
    const hash = await this.redis.hgetall(this.alertKey(uuid));
    if (!hash.alert) return null;
    return {
      alert: parseJsonLossless(hash.alert) as FalcoAlert,
      receivedAt: hash.receivedAt ?? "",
      acknowledgedBy: hash.acknowledgedBy ?? null,
      acknowledgedAt: hash.acknowledgedAt ?? null,
      escalatedBy: hash.escalatedBy ?? null,
      escalatedAt: hash.escalatedAt ?? null,
      escalation: hash.escalation ? (JSON.parse(hash.escalation) as SlackRef) : null,
      slack: hash.slackChannel && hash.slackTs ? { channel: hash.slackChannel, ts: hash.slackTs } : null,
      expanded: hash.expanded === "1",
      mitigationInThread: hash.mitigationInThread === "1",
      delivery: hash.delivery
        ? (JSON.parse(hash.delivery) as Delivery)
        : { status: "pending", error: null, at: null },
    };
  }

  /** Finds an alert by its uuid or by a unique prefix of it (at least `minPrefix` characters). */
  async resolve(
    idOrPrefix: string,
    minPrefix = 8,
  ): Promise<{ found: string } | { ambiguous: string[] } | { notFound: true } | { tooShort: true }> {
    const exact = await this.redis.exists(this.alertKey(idOrPrefix));
    if (exact) return { found: idOrPrefix };
    if (idOrPrefix.length < minPrefix) return { tooShort: true };
    // Lexicographic range over a score-0 sorted set: every member starting with the prefix.
    const matches = await this.redis.zrangebylex(
      this.idsKey,
      `[${idOrPrefix}`,
      `[${idOrPrefix}\xff`,
      "LIMIT",
      0,
      5,
    );
    if (matches.length === 0) return { notFound: true };
    if (matches.length > 1) return { ambiguous: matches };
    return { found: matches[0]! };
  }

  /** The newest alerts first. */
  async recent(limit = 10): Promise<StoredAlert[]> {
    const ids = await this.redis.zrevrange(this.recentKey, 0, limit - 1);
    const alerts = await Promise.all(ids.map((id) => this.get(id)));
    return alerts.filter((a): a is StoredAlert => a !== null);
  }

  /** Records who acknowledged or escalated first; a later caller learns who won. Atomic across processes. */
  async claim(
    uuid: string,
    action: "acknowledged" | "escalated",
    userId: string,
    at: Date,
  ): Promise<ClaimResult> {
    const [outcome, by, when] = await this.redis.fcClaim(
      this.alertKey(uuid),
      `${action}By`,
      `${action}At`,
      userId,
      at.toISOString(),
    );
    if (outcome === "missing") return { outcome: "missing" };
    if (outcome === "already") return { outcome: "already", by: by ?? "", at: when ?? "" };
    return { outcome: "claimed", at: at.toISOString() };
  }

  private async update(uuid: string, fields: Record<string, string>): Promise<boolean> {
    const args = Object.entries(fields).flat();
    return (await this.redis.fcUpdate(this.alertKey(uuid), ...args)) === 1;
  }

  async setPosted(uuid: string, ref: SlackRef, at: Date): Promise<void> {
    await this.update(uuid, {
      slackChannel: ref.channel,
      slackTs: ref.ts,
      delivery: JSON.stringify({ status: "posted", error: null, at: at.toISOString() } satisfies Delivery),
    });
  }

  async setDelivery(uuid: string, delivery: Delivery): Promise<void> {
    await this.update(uuid, { delivery: JSON.stringify(delivery) });
  }

  async setExpanded(uuid: string, expanded: boolean): Promise<void> {
    await this.update(uuid, { expanded: expanded ? "1" : "0" });
  }

  async setMitigationInThread(uuid: string): Promise<void> {
    await this.update(uuid, { mitigationInThread: "1" });
  }

  /**
   * Claims the one posting of the full report in the alert's thread: true for the first caller only,
   * so that two clicks do not post it twice. `releaseReport` gives the claim back when posting failed.
   */
  async claimReport(uuid: string, at: Date): Promise<boolean> {
    if (!(await this.redis.exists(this.alertKey(uuid)))) return false;
    return (await this.redis.hsetnx(this.alertKey(uuid), "reportPostedAt", at.toISOString())) === 1;
  }

  async releaseReport(uuid: string): Promise<void> {
    await this.redis.hdel(this.alertKey(uuid), "reportPostedAt");
  }

  async setEscalation(uuid: string, ref: SlackRef): Promise<void> {
    await this.update(uuid, { escalation: JSON.stringify(ref) });
  }
}
