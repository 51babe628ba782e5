import { readFileSync } from "node:fs";
import { z } from "zod";
import type { MetricsSnapshot } from "../health/signals.js";
import {
  type HostRecord,
  lossOf,
  PARTIAL_VISIBILITY_SECONDS,
  partialVisibilityOf,
  type VisibilityEvent,
  type VisibilityLoss,
} from "../health/state.js";
import type { RedisClient } from "../redis/connection.js";
import { StoreKeys } from "./keys.js";

function lua(name: string): string {
  return readFileSync(new URL(`./commands/${name}.lua`, import.meta.url), "utf8");
}

const SCRIPTS = {
  fcRecordVisibilityLoss: { numberOfKeys: 2, lua: lua("recordVisibilityLoss") },
  fcOpenOutage: { numberOfKeys: 3, lua: lua("openOutage") },
  fcCloseOutage: { numberOfKeys: 3, lua: lua("closeOutage") },
  fcClaimHealthPost: { numberOfKeys: 1, lua: lua("claimHealthPost") },
} as const;

interface HealthCommands {
  fcRecordVisibilityLoss(...keysAndArgs: string[]): Promise<unknown>;
  fcOpenOutage(...keysAndArgs: string[]): Promise<unknown>;
  fcCloseOutage(...keysAndArgs: string[]): Promise<unknown>;
  fcClaimHealthPost(...keysAndArgs: string[]): Promise<unknown>;
}

/** A drop alert or timeouts notification to record. */
export interface VisibilityLossEvent {
  host: string;
  kind: VisibilityEvent["kind"];
  /** Arrival, ms. */
  at: number;
  drops: number;
  /** Falco's time of the alert: with the kind and count, what tells a re-sent copy from a new one. */
  falcoTime: string;
  lastEventTime: string | null;
}

/** A health message's own record: the outage or the visibility episode it shows. */
export type HealthMessageKind = "outage" | "episode";

export type ClaimReply =
  | { kind: "claimed" }
  | { kind: "posted"; channel: string; ts: string }
  | { kind: "busy" }
  | { kind: "missing" };

const claimReply = z.union([
  z.tuple([z.literal("claimed")]).transform((): ClaimReply => ({ kind: "claimed" })),
  z
    .tuple([z.literal("posted"), z.string(), z.string()])
    .transform(([, channel, ts]): ClaimReply => ({ kind: "posted", channel, ts })),
  z.tuple([z.enum(["busy", "missing"])]).transform(([kind]): ClaimReply => ({ kind })),
]);

export type OutageClose =
  { kind: "back"; since: number; backAt: number } | { kind: "silent" } | { kind: "none" };

const closeReply = z.union([
  z
    .tuple([z.literal("back"), z.coerce.number(), z.coerce.number()])
    .transform(([, since, backAt]): OutageClose => ({ kind: "back", since, backAt })),
  z.tuple([z.enum(["silent", "none"])]).transform(([kind]): OutageClose => ({ kind })),
]);

const openReply = z.union([
  z
    .tuple([z.literal("opened"), z.coerce.number()])
    .transform(([, since]) => ({ kind: "opened" as const, since })),
  z.tuple([z.enum(["open", "alive"])]).transform(([kind]) => ({ kind })),
]);

const recordReply = z
  .tuple([z.enum(["new", "more", "copy"]), z.string()])
  .transform(([status, startedAt]) => ({ status, startedAt: Number(startedAt) }));

/** A visibility episode as stored: what one health message about drops and timeouts shows. */
export interface Episode {
  host: string;
  startedAt: number;
  lastAt: number;
  drops: number;
  dropAlerts: number;
  timeouts: number;
  lastEventTime: string | null;
  message: { channel: string; ts: string } | null;
}

const snapshotSchema = z.object({
  falcoVersion: z.string().nullable(),
  rulesFiles: z.array(z.string()),
  rulesCounted: z.number().nullable(),
  evtsRate: z.number().nullable(),
  dropsPercent: z.number().nullable(),
  drops: z.number().nullable(),
  engine: z.string().nullable(),
  kernel: z.string().nullable(),
}) satisfies z.ZodType<MetricsSnapshot>;

/** Members of a host's events: kind, count and Falco's time, joined by "|" (the time has none). */
function memberOf(e: VisibilityLossEvent): string {
  return `${e.kind}|${e.drops}|${e.falcoTime}`;
}

function eventsOf(withScores: string[]): VisibilityEvent[] {
  const out: VisibilityEvent[] = [];
  for (let i = 0; i + 1 < withScores.length; i += 2) {
    const [kind, drops] = withScores[i]!.split("|");
    out.push({
      kind: kind === "timeouts" ? "timeouts" : "drops",
      drops: Number(drops) || 0,
      at: Number(withScores[i + 1]),
    });
  }
  return out;
}

const num = (v: string | undefined | null) => (v === undefined || v === null || v === "" ? null : Number(v));

/**
 * Falco's own health per host in Redis: when each host was last heard from (any alert), its latest
 * metrics snapshot, its drop alerts and timeouts notifications, its current visibility episode and
 * its open outage, each with the Slack message that shows it. Key names: StoreKeys `health*`.
 */
export class HealthStore {
  private readonly redis: RedisClient & HealthCommands;
  readonly keys: StoreKeys;

  constructor(redis: RedisClient, prefix: string) {
    if (!("fcOpenOutage" in redis))
      for (const [name, definition] of Object.entries(SCRIPTS)) redis.defineCommand(name, definition);
    this.redis = redis as RedisClient & HealthCommands;
    this.keys = new StoreKeys(prefix);
  }

  /** Records when each host was last heard from (arrival ms): one command for a whole ingest batch. */
  async seen(hosts: ReadonlyMap<string, number>): Promise<void> {
    if (hosts.size === 0) return;
    const args: string[] = [];
    for (const [host, at] of hosts) args.push(host, String(at));
    await this.redis.hset(this.keys.healthLastSeen, ...args);
  }

  /** Keeps a host's latest metrics snapshot, and from then on checks its heartbeat. */
  async recordSnapshot(host: string, at: number, figures: MetricsSnapshot): Promise<void> {
    await this.redis
      .multi()
      .hset(this.keys.healthHost(host), "at", String(at), "figures", JSON.stringify(figures))
      .hset(this.keys.healthWatched, host, String(at))
      .exec();
  }

  /** Records a drop alert or timeouts notification (see recordVisibilityLoss.lua). */
  async recordLoss(
    event: VisibilityLossEvent,
    options: { episodeGapSeconds: number; keepSeconds: number },
  ): Promise<{ status: "new" | "more" | "copy"; startedAt: number }> {
    return recordReply.parse(
      await this.redis.fcRecordVisibilityLoss(
        this.keys.healthEvents(event.host),
        this.keys.healthEpisode(event.host),
        String(event.at),
        String(options.episodeGapSeconds * 1000),
        event.kind,
        String(event.drops),
        memberOf(event),
        String(options.keepSeconds * 1000),
        event.host,
        event.lastEventTime ?? "",
      ),
    );
  }

  /** The host's drop alerts and timeouts notifications that arrived between `from` and `to` (ms). */
  async events(host: string, from: number, to: number): Promise<VisibilityEvent[]> {
    return eventsOf(await this.redis.zrangebyscore(this.keys.healthEvents(host), from, to, "WITHSCORES"));
  }

  /** The drops within PARTIAL_VISIBILITY_SECONDS of `at` (ms), which an alert from the host mentions. */
  async partialVisibility(host: string, at: number): Promise<VisibilityLoss | null> {
    const window = PARTIAL_VISIBILITY_SECONDS * 1000;
    return partialVisibilityOf(await this.events(host, at - window, at + window));
  }

  async episode(host: string): Promise<Episode | null> {
    const h = await this.redis.hgetall(this.keys.healthEpisode(host));
    if (h.startedAt === undefined) return null;
    return {
      host: h.host ?? host,
      startedAt: Number(h.startedAt),
      lastAt: Number(h.lastAt),
      drops: Number(h.drops ?? 0),
      dropAlerts: Number(h.dropAlerts ?? 0),
      timeouts: Number(h.timeouts ?? 0),
      lastEventTime: h.lastEventTime ?? null,
      message: h.ts ? { channel: h.channel ?? "", ts: h.ts } : null,
    };
  }

  /** Hosts whose heartbeat is checked, with their latest snapshot's arrival (ms). */
  async watched(): Promise<Map<string, number>> {
    const all = await this.redis.hgetall(this.keys.healthWatched);
    return new Map(Object.entries(all).map(([host, at]) => [host, Number(at)]));
  }

  /** When each of these hosts was last heard from (ms); hosts never heard from are left out. */
  async lastSeen(hosts: readonly string[]): Promise<Map<string, number>> {
    if (hosts.length === 0) return new Map();
    const values = await this.redis.hmget(this.keys.healthLastSeen, ...hosts);
    const out = new Map<string, number>();
    hosts.forEach((host, i) => {
      const v = values[i];
      if (v !== null && v !== undefined) out.set(host, Number(v));
    });
    return out;
  }

  async openOutages(): Promise<string[]> {
    return this.redis.smembers(this.keys.healthOutages);
  }

  private outageKeys(host: string): string[] {
    return [this.keys.healthLastSeen, this.keys.healthOutage(host), this.keys.healthOutages];
  }

  /** Opens the host's outage if it has been silent for `thresholdMs`, once across every process. */
  async openOutage(
    host: string,
    options: { now: number; thresholdMs: number; snapshotAt: number },
  ): Promise<{ kind: "opened"; since: number } | { kind: "open" | "alive" }> {
    return openReply.parse(
      await this.redis.fcOpenOutage(
        ...this.outageKeys(host),
        host,
        String(options.now),
        String(options.thresholdMs),
        String(options.snapshotAt),
      ),
    );
  }

  /** Marks the host's outage over if it was heard from since (closeOutage.lua). */
  async closeOutage(host: string): Promise<OutageClose> {
    return closeReply.parse(await this.redis.fcCloseOutage(...this.outageKeys(host), host));
  }

  /** The outage's message shows that the host is back: the outage is forgotten. */
  async finishOutage(host: string): Promise<void> {
    await this.redis.multi().del(this.keys.healthOutage(host)).srem(this.keys.healthOutages, host).exec();
  }

  async outage(host: string): Promise<{
    since: number;
    backAt: number | null;
    message: { channel: string; ts: string } | null;
  } | null> {
    const h = await this.redis.hgetall(this.keys.healthOutage(host));
    if (h.since === undefined) return null;
    return {
      since: Number(h.since),
      backAt: num(h.backAt),
      message: h.ts ? { channel: h.channel ?? "", ts: h.ts } : null,
    };
  }

  private messageKey(kind: HealthMessageKind, host: string): string {
    return kind === "outage" ? this.keys.healthOutage(host) : this.keys.healthEpisode(host);
  }

  /** Claims the posting of the outage's or episode's message (claimHealthPost.lua). */
  async claimPost(kind: HealthMessageKind, host: string, now: number, staleMs: number): Promise<ClaimReply> {
    return claimReply.parse(
      await this.redis.fcClaimHealthPost(this.messageKey(kind, host), String(now), String(staleMs)),
    );
  }

  /** Records the posted message; false if its outage or episode ended meanwhile. */
  async setPosted(
    kind: HealthMessageKind,
    host: string,
    ref: { channel: string; ts: string },
  ): Promise<void> {
    const key = this.messageKey(kind, host);
    // Only onto the record it was claimed on: HSET on a deleted key would make a half record.
    if (await this.redis.exists(key))
      await this.redis.multi().hset(key, "channel", ref.channel, "ts", ref.ts).hdel(key, "postingAt").exec();
  }

  /** Gives a claim back after a failed post, so that the next attempt posts at once. */
  async releasePost(kind: HealthMessageKind, host: string): Promise<void> {
    await this.redis.hdel(this.messageKey(kind, host), "postingAt");
  }

  /** Every host ever heard from (while its records last), as `/falco health` lists them. */
  async hosts(now: number): Promise<HostRecord[]> {
    const [lastSeen, watched, open] = await Promise.all([
      this.redis.hgetall(this.keys.healthLastSeen),
      this.redis.hgetall(this.keys.healthWatched),
      this.redis.smembers(this.keys.healthOutages),
    ]);
    const names = [...new Set([...Object.keys(lastSeen), ...Object.keys(watched)])];
    if (names.length === 0) return [];
    const openSet = new Set(open);
    const window = PARTIAL_VISIBILITY_SECONDS * 1000;
    const pipeline = this.redis.pipeline();
    for (const host of names) {
      pipeline.hgetall(this.keys.healthHost(host));
      pipeline.zrangebyscore(this.keys.healthEvents(host), now - window, "+inf", "WITHSCORES");
      pipeline.hmget(this.keys.healthOutage(host), "since", "backAt");
    }
    const results = (await pipeline.exec()) ?? [];
    for (const [error] of results) if (error) throw error;
    return names.map((host, i) => {
      const snapshotHash = results[i * 3]![1] as Record<string, string>;
      const events = eventsOf(results[i * 3 + 1]![1] as string[]);
      const [since, backAt] = results[i * 3 + 2]![1] as (string | null)[];
      const figures = snapshotHash.figures
        ? snapshotSchema.safeParse(JSON.parse(snapshotHash.figures))
        : null;
      return {
        host,
        lastSeen: num(lastSeen[host]),
        snapshot:
          figures?.success && snapshotHash.at ? { at: Number(snapshotHash.at), figures: figures.data } : null,
        outage:
          openSet.has(host) && since !== null && since !== undefined
            ? { since: Number(since), backAt: num(backAt) }
            : null,
        recent: lossOf(events),
      };
    });
  }
}
