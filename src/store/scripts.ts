import { readFileSync } from "node:fs";
import { z } from "zod";
import type { RedisClient } from "../redis/connection.js";
import type { Hold } from "../ingest/holds.js";
import type { AlertPlace } from "../route/grouping.js";
import type { CreateOutcome } from "./alert-store.js";
import { flagText } from "./codec.js";
import { ID_BUCKET_CHARS, type StoreKeys } from "./keys.js";
import { isVerdict, type Verdict } from "../falco/verdict.js";

/**
 * The store's Lua scripts, one file each in ./commands (its header names its KEYS, ARGV and reply),
 * read once when this module loads and defined on each connection with ioredis's defineCommand,
 * which sends EVALSHA and falls back to EVAL once per server. The build copies ./commands next to
 * the compiled module.
 */
function lua(name: string): string {
  return readFileSync(new URL(`./commands/${name}.lua`, import.meta.url), "utf8");
}

const SCRIPTS = {
  /** Variable number of keys: the call passes numkeys first. */
  fcCreateAlerts: { lua: lua("createAlerts") },
  fcClaimAction: { numberOfKeys: 1, lua: lua("claimAction") },
  fcUpdateAlert: { numberOfKeys: 1, lua: lua("updateAlert") },
  fcTakeOwnership: { numberOfKeys: 2, lua: lua("takeOwnership") },
  fcResolveAlert: { numberOfKeys: 1, lua: lua("resolveAlert") },
  fcReopenAlert: { numberOfKeys: 1, lua: lua("reopenAlert") },
} as const;

/** The commands defineCommand adds to a connection (or to a pipeline made from it). */
export interface StoreCommands {
  fcCreateAlerts(...numKeysKeysAndArgs: string[]): Promise<unknown>;
  fcClaimAction(...keysAndArgs: string[]): Promise<unknown>;
  fcUpdateAlert(...keysAndArgs: string[]): Promise<unknown>;
  fcTakeOwnership(...keysAndArgs: string[]): Promise<unknown>;
  fcResolveAlert(...keysAndArgs: string[]): Promise<unknown>;
  fcReopenAlert(...keysAndArgs: string[]): Promise<unknown>;
}

/** Defines the store's commands on a connection, once: several stores may share one. */
export function withStoreCommands(redis: RedisClient): RedisClient & StoreCommands {
  if (!("fcCreateAlerts" in redis))
    for (const [name, definition] of Object.entries(SCRIPTS)) redis.defineCommand(name, definition);
  return redis as RedisClient & StoreCommands;
}

export interface CreateAlertsParams {
  /** The latest alert's arrival, ms. */
  now: number;
  groupWindowSeconds: number;
  dedupeWindowSeconds: number;
  retentionSeconds: number;
  /** New groups of one rule in one channel before its roll-up opens (0: off). */
  rollupGroups: number;
  rollupWindowSeconds: number;
}

/** One alert as createAlerts.lua takes it. */
export interface CreateAlertsEntry {
  uuid: string;
  /** The stored body (see AlertStore), as lossless JSON. */
  body: string;
  contentKey: string;
  groupKey: string;
  sample: string;
  channel: string;
  post: boolean;
  held: Hold | null;
  receivedAt: Date;
  /** The alert's Falco rule, whose index (StoreKeys.ruleAlerts) lists it. */
  rule: string;
  priority: string;
  /** Where it happened, as a fleet roll-up counts it. */
  place: AlertPlace;
}

/** The argument list of one fcCreateAlerts call: numkeys, KEYS, ARGV (see createAlerts.lua). */
export function createAlertsArgs(
  keys: StoreKeys,
  params: CreateAlertsParams,
  entries: readonly CreateAlertsEntry[],
): string[] {
  const keyList = [keys.idsBase, keys.byTime, keys.openGroups];
  const argList = [
    String(params.now),
    String(params.groupWindowSeconds),
    keys.alertPrefix,
    String(params.dedupeWindowSeconds),
    String(params.retentionSeconds),
    String(ID_BUCKET_CHARS),
    keys.heldPrefix,
    String(params.rollupGroups),
    String(params.rollupWindowSeconds),
    keys.rollupPrefix,
  ];
  for (const e of entries) {
    keyList.push(keys.alert(e.uuid), keys.body(e.uuid), keys.seen(e.contentKey), keys.group(e.groupKey));
    argList.push(
      e.body,
      e.uuid,
      e.sample,
      e.channel,
      flagText(e.post),
      e.receivedAt.toISOString(),
      String(e.receivedAt.getTime()),
      e.held?.status ?? "",
      e.held?.by ?? "",
      keys.ruleAlerts(e.rule),
      keys.fleet(e.channel, e.rule),
      e.rule,
      e.priority,
      e.place.host,
      e.place.pod,
      e.place.namespace,
    );
  }
  return [String(keyList.length), ...keyList, ...argList];
}

/** The argument list of one fcClaimAction call (see claimAction.lua). */
export function claimActionArgs(
  alertKey: string,
  claim: { byField: string; atField: string; by: string; at: Date },
): string[] {
  return [alertKey, claim.byField, claim.atField, claim.by, claim.at.toISOString()];
}

/** The argument list of one fcUpdateAlert call (see updateAlert.lua). */
export function updateAlertArgs(alertKey: string, fields: Record<string, string>): string[] {
  return [alertKey, ...Object.entries(fields).flat()];
}

const createOutcome = z.union([
  z.tuple([z.literal("leader")]).transform((): CreateOutcome => ({ kind: "leader" })),
  z
    .tuple([z.literal("member"), z.string(), z.number().int()])
    .transform(([, leader, occurrences]): CreateOutcome => ({ kind: "member", leader, occurrences })),
  z
    .tuple([
      z.literal("member"),
      z.string(),
      z.number().int(),
      z.string(),
      z.union([z.literal(0), z.literal(1)]),
    ])
    .transform(([, leader, occurrences, rollup, own]): CreateOutcome => ({
      kind: "member",
      leader,
      occurrences,
      rollup,
      ownMessage: own === 1,
    })),
  z
    .tuple([z.literal("rolled_up"), z.string(), z.union([z.literal(0), z.literal(1)])])
    .transform(([, rollup, opened]): CreateOutcome => ({ kind: "rolled_up", rollup, opened: opened === 1 })),
  z
    .tuple([z.literal("copy"), z.string()])
    .transform(([, original]): CreateOutcome => ({ kind: "copy", original })),
  z.tuple([z.literal("undelivered")]).transform((): CreateOutcome => ({ kind: "undelivered" })),
  z
    .tuple([z.literal("undelivered_rollup"), z.string()])
    .transform(([, rollup]): CreateOutcome => ({ kind: "undelivered_rollup", rollup })),
  z
    .tuple([z.literal("held"), z.enum(["silenced", "tuned"])])
    .transform(([, status]): CreateOutcome => ({ kind: "held", status })),
  z.tuple([z.literal("duplicate")]).transform((): CreateOutcome => ({ kind: "duplicate" })),
]);
const createAlertsReplySchema = z.array(createOutcome);

/** What createAlerts.lua did with each alert, in order. */
export function createAlertsReply(reply: unknown): CreateOutcome[] {
  return createAlertsReplySchema.parse(reply);
}

/** What claimAction.lua found. */
export type ClaimReply =
  { kind: "claimed" } | { kind: "already"; by: string; at: string } | { kind: "missing" };

const claimActionReplySchema = z.union([
  z.tuple([z.literal("claimed")]).transform((): ClaimReply => ({ kind: "claimed" })),
  z
    .tuple([z.literal("already"), z.string(), z.string()])
    .transform(([, by, at]): ClaimReply => ({ kind: "already", by, at })),
  z.tuple([z.literal("missing")]).transform((): ClaimReply => ({ kind: "missing" })),
]);

export function claimActionReply(reply: unknown): ClaimReply {
  return claimActionReplySchema.parse(reply);
}

/** updateAlert.lua: whether the alert still existed and was written. */
export function updateAlertReply(reply: unknown): boolean {
  return z.union([z.literal(0), z.literal(1)]).parse(reply) === 1;
}

/** The argument list of one fcTakeOwnership call (see takeOwnership.lua). */
export function takeOwnershipArgs(
  keys: StoreKeys,
  take: { uuid: string; owner: string; at: Date; byField: string; atField: string },
): string[] {
  return [
    keys.alert(take.uuid),
    keys.ownedBy(take.owner),
    take.uuid,
    take.owner,
    take.at.toISOString(),
    String(take.at.getTime()),
    keys.ownedPrefix,
    take.byField,
    take.atField,
  ];
}

/** What takeOwnership.lua did. */
export type TakeReply =
  { kind: "taken"; previous: string | null } | { kind: "already" } | { kind: "missing" };

const takeOwnershipReplySchema = z.union([
  z
    .tuple([z.literal("taken"), z.string()])
    .transform(([, previous]): TakeReply => ({ kind: "taken", previous: previous || null })),
  z.tuple([z.literal("already")]).transform((): TakeReply => ({ kind: "already" })),
  z.tuple([z.literal("missing")]).transform((): TakeReply => ({ kind: "missing" })),
]);

export function takeOwnershipReply(reply: unknown): TakeReply {
  return takeOwnershipReplySchema.parse(reply);
}

/** The argument list of one fcResolveAlert call (see resolveAlert.lua). */
export function resolveAlertArgs(
  alertKey: string,
  resolution: { verdict: Verdict; note: string | null; by: string; at: Date },
): string[] {
  return [alertKey, resolution.verdict, resolution.note ?? "", resolution.by, resolution.at.toISOString()];
}

/** What resolveAlert.lua and reopenAlert.lua found: the resolution in place before the call. */
export type ResolveReply =
  | { kind: "resolved" }
  | { kind: "reopened"; by: string; at: string; verdict: Verdict | null }
  | { kind: "already"; by: string; at: string; verdict: Verdict | null }
  | { kind: "not_resolved" }
  | { kind: "missing" };

const earlierVerdict = z.string().transform((v) => (isVerdict(v) ? v : null));
const resolveReplySchema = z.union([
  z.tuple([z.literal("resolved")]).transform((): ResolveReply => ({ kind: "resolved" })),
  z
    .tuple([z.enum(["already", "reopened"]), z.string(), z.string(), earlierVerdict])
    .transform(([kind, by, at, verdict]): ResolveReply => ({ kind, by, at, verdict })),
  z.tuple([z.literal("not_resolved")]).transform((): ResolveReply => ({ kind: "not_resolved" })),
  z.tuple([z.literal("missing")]).transform((): ResolveReply => ({ kind: "missing" })),
]);

export function resolveReply(reply: unknown): ResolveReply {
  return resolveReplySchema.parse(reply);
}
