import { z } from "zod";
import type { FalcoAlert } from "../falco/alert.js";
import { PRIORITIES, type Priority } from "../falco/priority.js";
import { VERDICTS, type Verdict } from "../falco/verdict.js";
import type { RedisClient } from "../redis/connection.js";
import type { ClaimResult, Resolution, ResolveResult, SlackRef } from "./alert-store.js";
import { decodeBody } from "./codec.js";
import { StoreKeys } from "./keys.js";
import {
  claimActionArgs,
  claimActionReply,
  resolveAlertArgs,
  resolveReply,
  type StoreCommands,
  updateAlertArgs,
  updateAlertReply,
  withStoreCommands,
} from "./scripts.js";

/**
 * Fleet roll-ups in Redis: createAlerts.lua opens them and counts their members (see its header);
 * this reads them, records their Slack message, and applies people's actions to the roll-up and to
 * every member group's first alert.
 */

/** A place (host, pod, namespace) and the occurrences counted there. */
export interface PlaceCount {
  name: string;
  occurrences: number;
}

/** How many distinct places a roll-up has seen, and the busiest few. */
export interface PlaceTally {
  count: number;
  busiest: PlaceCount[];
}

export type RollupDeliveryStatus = "pending" | "posted" | "preview" | "failed";

/** A roll-up as its message and the API show it. */
export interface RollupInfo {
  id: string;
  rule: string;
  channel: string;
  priority: Priority;
  firstSeen: string;
  lastSeen: string;
  /** Occurrences of every member group together. */
  occurrences: number;
  /** Member groups (each a group's first alert). */
  groups: number;
  hosts: PlaceTally;
  pods: PlaceTally;
  namespaces: PlaceTally;
  /** New groups of its rule still join it. */
  open: boolean;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  escalatedBy: string | null;
  escalatedAt: string | null;
  resolution: Resolution | null;
  slack: SlackRef | null;
  delivery: { status: RollupDeliveryStatus; error: string | null };
  postIntentAt: string | null;
  /** Occurrences its Slack message showed when it was last posted or updated. */
  rendered: number;
  /** Members posted on their own before the roll-up opened: their messages show its actions too. */
  ownMessages: string[];
}

/** One member group of a roll-up: its first alert, where it happened, its occurrences. */
export interface RollupMember {
  leader: string;
  host: string;
  pod: string;
  namespace: string;
  occurrences: number;
}

/** How many of the busiest hosts, pods and namespaces a roll-up's read includes. */
export const BUSIEST = 5;

const optionalText = z
  .string()
  .optional()
  .transform((v) => v || null);
const count = z.string().regex(/^\d+$/).transform(Number);

/** The roll-up record's fields as createAlerts.lua and this store write them. */
const rollupHash = z.object({
  receivedAt: z.string(),
  rule: z.string(),
  channel: z.string(),
  priority: z.enum(PRIORITIES),
  first: z.string(),
  last: z.string(),
  total: count,
  groups: count,
  fleet: z.string(),
  deliveryStatus: z.enum(["pending", "posted", "preview", "failed"]),
  deliveryError: optionalText,
  slackChannel: optionalText,
  slackTs: optionalText,
  postIntentAt: optionalText,
  rendered: count.optional(),
  acknowledgedBy: optionalText,
  acknowledgedAt: optionalText,
  escalatedBy: optionalText,
  escalatedAt: optionalText,
  verdict: z.enum(VERDICTS).optional(),
  resolutionNote: optionalText,
  resolvedBy: optionalText,
  resolvedAt: optionalText,
  ownMessages: z
    .string()
    .optional()
    .transform((v) => z.array(z.string()).parse(v ? JSON.parse(v) : [])),
});

/** Fields of the roll-up record this store writes (the rest are createAlerts.lua's). */
type RollupPatch = Partial<{
  deliveryStatus: RollupDeliveryStatus;
  deliveryError: string;
  slackChannel: string;
  slackTs: string;
  postIntentAt: string;
  rendered: number;
}>;

const PLACES = ["hosts", "pods", "namespaces"] as const;

/** Members handled per pipeline when an action reaches every member. */
const MEMBER_PAGE = 500;

function tally(card: number, withScores: string[]): PlaceTally {
  const busiest: PlaceCount[] = [];
  for (let i = 0; i + 1 < withScores.length; i += 2)
    busiest.push({ name: withScores[i]!, occurrences: Number(withScores[i + 1]) });
  return { count: card, busiest };
}

const place = z.tuple([z.string(), z.string(), z.string()]);

export class RollupStore {
  private readonly redis: RedisClient & StoreCommands;
  readonly keys: StoreKeys;

  constructor(redis: RedisClient, prefix: string) {
    this.redis = withStoreCommands(redis);
    this.keys = new StoreKeys(prefix);
  }

  async get(id: string): Promise<RollupInfo | null> {
    const k = this.keys;
    const pipeline = this.redis.pipeline();
    pipeline.hgetall(k.rollup(id));
    for (const kind of PLACES) {
      pipeline.zcard(k.rollupPlaces(id, kind));
      pipeline.zrevrange(k.rollupPlaces(id, kind), 0, BUSIEST - 1, "WITHSCORES");
    }
    const results = await pipeline.exec();
    if (!results) throw new Error("Redis pipeline was aborted");
    const values = results.map(([error, value]) => {
      if (error) throw error;
      return value;
    });
    const raw = values[0] as Record<string, string>;
    if (raw.receivedAt === undefined) return null;
    const h = rollupHash.parse(raw);
    const [hosts, pods, namespaces] = PLACES.map((_, i) =>
      tally(values[1 + i * 2] as number, values[2 + i * 2] as string[]),
    );
    const open = (await this.redis.get(`${h.fleet}:open`)) === id && !h.resolvedAt;
    return {
      id,
      rule: h.rule,
      channel: h.channel,
      priority: h.priority,
      firstSeen: h.first,
      lastSeen: h.last,
      occurrences: h.total,
      groups: h.groups,
      hosts: hosts!,
      pods: pods!,
      namespaces: namespaces!,
      open,
      acknowledgedBy: h.acknowledgedBy,
      acknowledgedAt: h.acknowledgedAt,
      escalatedBy: h.escalatedBy,
      escalatedAt: h.escalatedAt,
      resolution:
        h.verdict && h.resolvedBy && h.resolvedAt
          ? { verdict: h.verdict, note: h.resolutionNote, by: h.resolvedBy, at: h.resolvedAt }
          : null,
      slack: h.slackChannel && h.slackTs ? { channel: h.slackChannel, ts: h.slackTs } : null,
      delivery: { status: h.deliveryStatus, error: h.deliveryError },
      postIntentAt: h.postIntentAt,
      rendered: h.rendered ?? 0,
      ownMessages: h.ownMessages,
    };
  }

  /** Member groups, the busiest first (`limit` 0: all from `offset`). */
  async members(
    id: string,
    page: { offset: number; limit: number } = { offset: 0, limit: 0 },
  ): Promise<RollupMember[]> {
    const stop = page.limit > 0 ? page.offset + page.limit - 1 : -1;
    const withScores = await this.redis.zrevrange(
      this.keys.rollupMembers(id),
      page.offset,
      stop,
      "WITHSCORES",
    );
    const leaders: string[] = [];
    const occurrences: number[] = [];
    for (let i = 0; i + 1 < withScores.length; i += 2) {
      leaders.push(withScores[i]!);
      occurrences.push(Number(withScores[i + 1]));
    }
    const places: (string | null)[] = [];
    for (let i = 0; i < leaders.length; i += MEMBER_PAGE)
      places.push(
        ...(await this.redis.hmget(this.keys.rollupWhere(id), ...leaders.slice(i, i + MEMBER_PAGE))),
      );
    return leaders.map((leader, i) => {
      const parsed = place.safeParse(JSON.parse(places[i] ?? "null"));
      const [host, pod, namespace] = parsed.success ? parsed.data : ["", "", ""];
      return { leader, host, pod, namespace, occurrences: occurrences[i]! };
    });
  }

  /** The first alerts of the roll-up's busiest `limit` member groups. */
  async memberAlerts(id: string, limit: number): Promise<FalcoAlert[]> {
    const leaders = await this.redis.zrevrange(this.keys.rollupMembers(id), 0, limit - 1);
    const alerts: FalcoAlert[] = [];
    for (let i = 0; i < leaders.length; i += MEMBER_PAGE) {
      const bodies = await this.redis.mget(
        ...leaders.slice(i, i + MEMBER_PAGE).map((l) => this.keys.body(l)),
      );
      for (const body of bodies) if (body !== null) alerts.push(decodeBody(body).alert);
    }
    return alerts;
  }

  /** How many member groups the roll-up has. */
  async memberCount(id: string): Promise<number> {
    return this.redis.zcard(this.keys.rollupMembers(id));
  }

  /** Every member group's first alert, in pages (a roll-up may have a hundred thousand). */
  private async forEachMemberPage(id: string, each: (leaders: string[]) => Promise<void>): Promise<void> {
    const key = this.keys.rollupMembers(id);
    for (let start = 0; ; start += MEMBER_PAGE) {
      const leaders = await this.redis.zrange(key, start, start + MEMBER_PAGE - 1);
      if (leaders.length === 0) return;
      await each(leaders);
      if (leaders.length < MEMBER_PAGE) return;
    }
  }

  /** Runs one store command per member in a pipeline per page; answers the replies. */
  private async onEveryMember(
    id: string,
    call: (pipeline: StoreCommands, leader: string) => void,
  ): Promise<unknown[]> {
    const replies: unknown[] = [];
    await this.forEachMemberPage(id, async (leaders) => {
      const pipeline = this.redis.pipeline() as unknown as StoreCommands & {
        exec(): Promise<[Error | null, unknown][] | null>;
      };
      for (const leader of leaders) call(pipeline, leader);
      const results = await pipeline.exec();
      if (!results) throw new Error("Redis pipeline was aborted");
      for (const [error, value] of results) {
        if (error) throw error;
        replies.push(value);
      }
    });
    return replies;
  }

  /**
   * Records who first acknowledged or escalated the roll-up (the first caller wins, as for an alert),
   * then claims every member group's first alert for them. A member claimed before keeps its claimer;
   * a group joining afterwards copies the roll-up's claim as it joins (createAlerts.lua), so none is
   * missed between the two steps. Answers the roll-up's claim and how many members it claimed.
   */
  async claim(
    id: string,
    action: "acknowledged" | "escalated",
    userId: string,
    at: Date,
  ): Promise<ClaimResult & { members?: number }> {
    const fields = { byField: `${action}By`, atField: `${action}At`, by: userId, at };
    const reply = claimActionReply(
      await this.redis.fcClaimAction(...claimActionArgs(this.keys.rollup(id), fields)),
    );
    if (reply.kind === "missing") return { outcome: "missing" };
    if (reply.kind === "already") return { outcome: "already", by: reply.by, at: reply.at };
    const replies = await this.onEveryMember(id, (p, leader) => {
      void p.fcClaimAction(...claimActionArgs(this.keys.alert(leader), fields));
    });
    const members = replies.filter((r) => claimActionReply(r).kind === "claimed").length;
    return { outcome: "claimed", at: at.toISOString(), members };
  }

  /**
   * Resolves the roll-up (the first caller wins) and then every member group's first alert that is
   * not resolved yet. A resolved roll-up takes no new groups: the rule's next ones count again.
   */
  async resolve(
    id: string,
    resolution: { verdict: Verdict; note: string | null; by: string; at: Date },
  ): Promise<ResolveResult & { members?: number }> {
    const reply = resolveReply(
      await this.redis.fcResolveAlert(...resolveAlertArgs(this.keys.rollup(id), resolution)),
    );
    if (reply.kind === "already")
      return { outcome: "already", by: reply.by, at: reply.at, verdict: reply.verdict };
    if (reply.kind !== "resolved") return { outcome: "missing" };
    const replies = await this.onEveryMember(id, (p, leader) => {
      void p.fcResolveAlert(...resolveAlertArgs(this.keys.alert(leader), resolution));
    });
    const members = replies.filter((r) => resolveReply(r).kind === "resolved").length;
    return { outcome: "resolved", at: resolution.at.toISOString(), members };
  }

  private async update(id: string, patch: RollupPatch): Promise<boolean> {
    const fields: Record<string, string> = {};
    for (const [name, value] of Object.entries(patch)) if (value !== undefined) fields[name] = String(value);
    return updateAlertReply(await this.redis.fcUpdateAlert(...updateAlertArgs(this.keys.rollup(id), fields)));
  }

  async setPostIntent(id: string, at: Date): Promise<void> {
    await this.update(id, { postIntentAt: at.toISOString() });
  }

  async setPosted(id: string, ref: SlackRef): Promise<void> {
    await this.update(id, { slackChannel: ref.channel, slackTs: ref.ts, deliveryStatus: "posted" });
  }

  async setDelivery(id: string, status: RollupDeliveryStatus, error: string | null = null): Promise<void> {
    await this.update(id, { deliveryStatus: status, ...(error ? { deliveryError: error } : {}) });
  }

  async setRendered(id: string, occurrences: number): Promise<void> {
    await this.update(id, { rendered: occurrences });
  }

  /** The roll-up's message is gone from Slack: forget it, so that the next delivery posts a new one. */
  async forgetPost(id: string): Promise<void> {
    await this.redis.hdel(this.keys.rollup(id), "slackChannel", "slackTs", "postIntentAt");
    await this.update(id, { deliveryStatus: "pending" });
  }

  /**
   * Claims the one posting of the member list in the roll-up's thread: true for the first caller
   * only. Through claimAction.lua, so that a roll-up that has just expired is not left half-written.
   */
  async claimReport(id: string, user: string, at: Date): Promise<boolean> {
    const reply = claimActionReply(
      await this.redis.fcClaimAction(
        ...claimActionArgs(this.keys.rollup(id), {
          byField: "reportPostedBy",
          atField: "reportPostedAt",
          by: user,
          at,
        }),
      ),
    );
    return reply.kind === "claimed";
  }

  async releaseReport(id: string): Promise<void> {
    await this.redis.hdel(this.keys.rollup(id), "reportPostedBy", "reportPostedAt");
  }
}
