import { readFileSync } from "node:fs";
import { z } from "zod";
import type { RedisClient } from "../redis/connection.js";
import type { Hold } from "../ingest/holds.js";
import type { CreateOutcome } from "./alert-store.js";
import { flagText } from "./codec.js";
import { ID_BUCKET_CHARS, type StoreKeys } from "./keys.js";

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
} as const;

/** The commands defineCommand adds to a connection (or to a pipeline made from it). */
export interface StoreCommands {
  fcCreateAlerts(...numKeysKeysAndArgs: string[]): Promise<unknown>;
  fcClaimAction(...keysAndArgs: string[]): Promise<unknown>;
  fcUpdateAlert(...keysAndArgs: string[]): Promise<unknown>;
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
    .tuple([z.literal("copy"), z.string()])
    .transform(([, original]): CreateOutcome => ({ kind: "copy", original })),
  z.tuple([z.literal("undelivered")]).transform((): CreateOutcome => ({ kind: "undelivered" })),
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
