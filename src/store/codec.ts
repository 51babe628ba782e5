import { z } from "zod";
import type { FalcoAlert } from "../falco/alert.js";
import { parseJsonLossless, stringifyLossless } from "../falco/json.js";
import { PRIORITIES } from "../falco/priority.js";
import { VERDICTS } from "../falco/verdict.js";
import type { Delivery, GroupInfo, SlackRef, StoredAlert } from "./alert-store.js";

/**
 * Between Redis and the store's types: an alert's state hash (every value a short string, so that
 * Redis keeps the hash a listpack) and its body (the alert and its group key, lossless JSON).
 * createAlerts.lua writes a new alert's first fields under the same names and in the same forms.
 */

/** A yes/no field. */
export function flagText(value: boolean): "1" | "0" {
  return value ? "1" : "0";
}
const flag = z.codec(z.enum(["0", "1"]), z.boolean(), { decode: (v) => v === "1", encode: flagText });

/** A count kept by HINCRBY or written whole. */
const count = z.codec(z.string().regex(/^\d+$/), z.number().int().nonnegative(), {
  decode: Number,
  encode: String,
});

/** A text that may be absent; written as "" when null, read as null when absent or "". */
const optionalText = z.codec(z.string().optional(), z.string().nullable(), {
  decode: (v) => v || null,
  encode: (v) => v ?? "",
});

/** A verdict that may be absent (not resolved). */
const optionalVerdict = z.codec(z.enum(VERDICTS).optional(), z.enum(VERDICTS).nullable(), {
  decode: (v) => v ?? null,
  encode: (v) => v ?? undefined,
});

const slackRef = z.object({ channel: z.string(), ts: z.string() }) satisfies z.ZodType<SlackRef>;
const slackRefJson = z.codec(z.string(), slackRef, {
  decode: (text) => slackRef.parse(JSON.parse(text)),
  encode: (ref) => JSON.stringify(ref),
});

export const DELIVERY_STATUSES = [
  "pending",
  "posted",
  "preview",
  "failed",
  "grouped",
  "not_posted",
  "silenced",
  "tuned",
  "rolled_up",
] as const satisfies readonly Delivery["status"][];

/** The fields of an alert's state hash, each in its decoded form. */
const alertHash = z.object({
  /** ISO 8601, when the request carrying it arrived. */
  receivedAt: z.string(),
  channel: z.string(),
  post: flag,
  deliveryStatus: z.enum(DELIVERY_STATUSES),
  deliveryError: optionalText,
  deliveryAt: optionalText,
  /** For a held-back alert: the silence or saved exception that matched. */
  heldBy: optionalText,
  /** For a group's first alert that joined a fleet roll-up instead of being posted: the roll-up's id. */
  rollup: optionalText,
  /** The first alert of its group (itself when it is the first). */
  group: z.string(),
  /** On a group's first alert only: occurrences, first and last arrival, occurrences shown in Slack. */
  groupCount: count.optional(),
  groupFirst: z.string().optional(),
  groupLast: z.string().optional(),
  groupRendered: count.optional(),
  /** Re-sent copies counted on this alert. */
  copies: count.optional(),
  acknowledgedBy: optionalText,
  acknowledgedAt: optionalText,
  escalatedBy: optionalText,
  escalatedAt: optionalText,
  escalation: slackRefJson.optional(),
  slackChannel: optionalText,
  slackTs: optionalText,
  postIntentAt: optionalText,
  expanded: flag.optional(),
  mitigationInThread: flag.optional(),
  /** Who first asked for the full report in the thread, and when (claimAction.lua). */
  reportPostedBy: optionalText,
  reportPostedAt: optionalText,
  /** Who owns the alert (took it, or was assigned it) and since when; takeOwnership.lua writes them. */
  ownerBy: optionalText,
  ownerAt: optionalText,
  /** How the alert ended (resolveAlert.lua writes these four together, reopenAlert.lua clears them). */
  verdict: optionalVerdict,
  /** The only long value a hash may hold: few alerts are resolved, fewer with a note. */
  resolutionNote: optionalText,
  resolvedBy: optionalText,
  resolvedAt: optionalText,
  /** On a group's first alert: the resolved first alert of the group it would have joined. */
  previousOccurrence: optionalText,
  /** While a silence made from this alert lasts: its id, its end (ISO 8601) and who made it. */
  silenceId: optionalText,
  silencedUntil: optionalText,
  silencedBy: optionalText,
});
const alertHashPatch = alertHash.partial();

/** An alert's state hash, decoded. */
export type AlertHash = z.output<typeof alertHash>;
/** Names of the state hash's fields. */
export type AlertHashField = keyof AlertHash;

/** Reads a state hash (HGETALL's answer); null when there is none or it is not a stored alert's. */
export function decodeAlertHash(hash: Record<string, string>): AlertHash | null {
  if (hash.receivedAt === undefined) return null;
  return alertHash.parse(hash);
}

/** The hash fields and values (HSET's arguments) that write these decoded values. */
export function encodeAlertHash(patch: Partial<AlertHash>): Record<string, string> {
  const encoded = z.encode(alertHashPatch, patch);
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(encoded)) if (value !== undefined) fields[name] = value;
  return fields;
}

const NOT_POSTED_REASON = "below MIN_PRIORITY: stored, not posted";

/** A delivery as hash fields. */
export function deliveryFields(
  d: Delivery,
): Pick<AlertHash, "deliveryStatus" | "deliveryError" | "deliveryAt"> & Partial<Pick<AlertHash, "heldBy">> {
  return {
    // Only held-back alerts carry it: every other hash stays a byte shorter.
    ...(d.heldBy ? { heldBy: d.heldBy } : {}),
    deliveryStatus: d.status,
    // Not stored for not_posted: the reason is always the same.
    deliveryError: d.status === "not_posted" ? null : d.error,
    deliveryAt: d.at,
  };
}

function deliveryOf(hash: AlertHash): Delivery {
  return {
    status: hash.deliveryStatus,
    error: hash.deliveryStatus === "not_posted" ? NOT_POSTED_REASON : hash.deliveryError,
    at: hash.deliveryAt,
    ...(hash.heldBy ? { heldBy: hash.heldBy } : {}),
  };
}

const fieldScalar = z.union([z.string(), z.number(), z.bigint(), z.boolean(), z.null()]);
const falcoAlert = z.object({
  uuid: z.string(),
  uuidGenerated: z.boolean(),
  rule: z.string(),
  priority: z.enum(PRIORITIES),
  source: z.string(),
  hostname: z.string().nullable(),
  time: z.string(),
  timeDerivedFrom: z.enum(["alert", "evt.time", "received"]),
  output: z.string(),
  outputFields: z.record(z.string(), z.union([fieldScalar, z.array(fieldScalar)])),
  tags: z.array(z.string()),
  repairs: z.array(z.string()),
}) satisfies z.ZodType<FalcoAlert>;

const storedBody = z.object({ alert: falcoAlert, groupKey: z.string() });

/** The immutable part of a stored alert. */
export type StoredBody = z.output<typeof storedBody>;

export function encodeBody(body: StoredBody): string {
  return stringifyLossless(body);
}

export function decodeBody(text: string): StoredBody {
  return storedBody.parse(parseJsonLossless(text));
}

/** A stored alert from its body and its decoded state hash. */
export function storedAlertOf(body: StoredBody, hash: AlertHash): StoredAlert {
  return {
    alert: body.alert,
    receivedAt: hash.receivedAt,
    acknowledgedBy: hash.acknowledgedBy,
    acknowledgedAt: hash.acknowledgedAt,
    escalatedBy: hash.escalatedBy,
    escalatedAt: hash.escalatedAt,
    escalation: hash.escalation ?? null,
    slack: hash.slackChannel && hash.slackTs ? { channel: hash.slackChannel, ts: hash.slackTs } : null,
    expanded: hash.expanded ?? false,
    mitigationInThread: hash.mitigationInThread ?? false,
    delivery: deliveryOf(hash),
    channel: hash.channel,
    post: hash.post,
    group: hash.group,
    postIntentAt: hash.postIntentAt,
    ownedBy: hash.ownerBy,
    ownedAt: hash.ownerAt,
    resolution:
      hash.verdict && hash.resolvedBy && hash.resolvedAt
        ? { verdict: hash.verdict, note: hash.resolutionNote, by: hash.resolvedBy, at: hash.resolvedAt }
        : null,
    previousOccurrence: hash.previousOccurrence,
    rollup: hash.rollup,
    silence:
      hash.silenceId && hash.silencedUntil
        ? { id: hash.silenceId, until: hash.silencedUntil, by: hash.silencedBy ?? "" }
        : null,
  };
}

/**
 * A group as its first alert keeps it: null when that alert is not a group's first. `sample` is the
 * first alert's own sample, which the samples set (made from the second occurrence on) lacks.
 */
export function groupOf(
  leader: string,
  body: StoredBody,
  hash: AlertHash,
  samples: string[],
  sample: string,
): GroupInfo | null {
  if (hash.groupCount === undefined) return null;
  return {
    leader,
    key: body.groupKey,
    occurrences: hash.groupCount,
    firstSeen: hash.groupFirst ?? "",
    lastSeen: hash.groupLast ?? "",
    samples: [...new Set([...samples, sample])].sort().slice(0, 5),
    rendered: hash.groupRendered ?? 0,
  };
}
