import type { RedisClient } from "../redis/connection.js";
import type { FalcoAlert } from "../falco/alert.js";
import type { Hold } from "../ingest/holds.js";
import { placeOf, sampleOf } from "../route/grouping.js";
import type { Verdict } from "../falco/verdict.js";
import {
  type AlertHash,
  type AlertHashField,
  decodeAlertHash,
  decodeBody,
  deliveryFields,
  encodeAlertHash,
  encodeBody,
  groupOf,
  storedAlertOf,
} from "./codec.js";
import { ID_BUCKET_CHARS, StoreKeys } from "./keys.js";
import {
  claimActionArgs,
  claimActionReply,
  createAlertsArgs,
  createAlertsReply,
  resolveAlertArgs,
  resolveReply,
  type StoreCommands,
  takeOwnershipArgs,
  takeOwnershipReply,
  updateAlertArgs,
  updateAlertReply,
  withStoreCommands,
} from "./scripts.js";

export type AlertState = "new" | "acknowledged" | "escalated" | "resolved";

export interface SlackRef {
  channel: string;
  ts: string;
}

export interface Delivery {
  status:
    | "pending"
    | "posted"
    | "preview"
    | "failed"
    | "grouped"
    | "not_posted"
    | "silenced"
    | "tuned"
    /** A group's first alert shown by its rule's fleet roll-up instead of a message of its own. */
    | "rolled_up";
  error: string | null;
  at: string | null;
  /** For "silenced" and "tuned": the id of the silence or saved exception that held it back. */
  heldBy?: string;
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
  /** The channel routing chose when the alert arrived. */
  channel: string;
  /** false when the alert was below MIN_PRIORITY: stored, not posted. */
  post: boolean;
  /** The first alert of this alert's group (itself when it is the first). */
  group: string;
  /** When a worker last started posting it: a retry after a crash looks for that post first. */
  postIntentAt: string | null;
  /** The Slack user who owns it (took it, or was assigned it), and since when. */
  ownedBy: string | null;
  ownedAt: string | null;
  /** How the alert ended, once someone resolved it; null while it is open (or after Reopen). */
  resolution: Resolution | null;
  /** For a group's first alert: the resolved first alert of the group it would have joined. */
  previousOccurrence: string | null;
  /** A silence made from this alert, while it lasts. */
  silence?: SilenceMark | null;
  /** For a group's first alert: the fleet roll-up that shows its group instead of a message of its own. */
  rollup?: string | null;
}

/** Who resolved an alert, when, with which verdict and note. */
export interface Resolution {
  verdict: Verdict;
  note: string | null;
  by: string;
  at: string;
}

/** The silence an alert's message shows: its id, its end (ISO 8601), who made it. */
export interface SilenceMark {
  id: string;
  until: string;
  by: string;
}

export function stateOf(stored: StoredAlert): AlertState {
  if (stored.resolution) return "resolved";
  if (stored.escalatedBy) return "escalated";
  if (stored.acknowledgedBy) return "acknowledged";
  return "new";
}

/**
 * Still to be worked on: every state but resolved. Written against the state's name, so that it
 * holds whichever states stateOf knows.
 */
export function isOpen(stored: StoredAlert): boolean {
  return (stateOf(stored) as string) !== "resolved";
}

/** What taking an alert (or assigning it) did. */
export type TakeResult =
  { outcome: "taken"; previous: string | null; at: string } | { outcome: "already" } | { outcome: "missing" };

/** What storing one alert did. */
export type CreateOutcome =
  | { kind: "leader" }
  /** `rollup`: its group is in a fleet roll-up; `ownMessage`: it was posted before the roll-up opened. */
  | { kind: "member"; leader: string; occurrences: number; rollup?: string; ownMessage?: boolean }
  /** Stored, first of a new group that joined its rule's fleet roll-up; `opened`: it opened it. */
  | { kind: "rolled_up"; rollup: string; opened: boolean }
  | { kind: "undelivered" }
  /** Stored already, shown by a roll-up whose message is not posted yet. */
  | { kind: "undelivered_rollup"; rollup: string }
  /** Stored and held back by a silence or exception: not posted, in no group. */
  | { kind: "held"; status: Hold["status"] }
  | { kind: "duplicate" }
  | { kind: "copy"; original: string };

/** One alert to store, with the decisions the web process made about it. */
export interface NewAlert {
  alert: FalcoAlert;
  channel: string;
  /** false below MIN_PRIORITY: stored, never posted. */
  post: boolean;
  /** A silence or saved exception that holds the message back (null: none). */
  held?: Hold | null;
  groupKey: string;
  sample: string;
  contentKey: string;
  /** When the request carrying it arrived. */
  receivedAt: Date;
}

export interface CreateOptions {
  /** 0 turns grouping off: every alert gets its own message. */
  groupWindowSeconds: number;
  /** 0 turns recognition of re-sent copies off. */
  dedupeWindowSeconds: number;
  /** Stored alerts expire this long after they arrived. */
  retentionSeconds: number;
  /** New groups of one rule in one channel before its roll-up opens; 0 (or absent) turns roll-ups off. */
  rollupGroups?: number;
  /** The window those groups are counted in, and a roll-up stays open without new members, s. */
  rollupWindowSeconds?: number;
}

/** The occurrences an alert's group has seen, as stored on the group's first alert. */
export interface GroupInfo {
  /** The first alert of the group, whose Slack message stands for all of them. */
  leader: string;
  key: string;
  occurrences: number;
  firstSeen: string;
  lastSeen: string;
  samples: string[];
  /** Occurrences the Slack message showed when it was last posted or updated. */
  rendered: number;
}

export type ClaimResult =
  | { outcome: "claimed"; at: string }
  | { outcome: "already"; by: string; at: string }
  | { outcome: "missing" };

export type ResolveResult =
  | { outcome: "resolved"; at: string }
  | { outcome: "already"; by: string; at: string; verdict: Verdict | null }
  | { outcome: "missing" };

export type ReopenResult =
  | { outcome: "reopened"; was: { by: string; at: string; verdict: Verdict | null } }
  | { outcome: "not_resolved" }
  | { outcome: "missing" };

/** Alerts per script call: large enough to amortise the call, small enough not to hold Redis up. */
export const CREATE_BATCH = 250;

/** Alerts and their triage state in Redis. Keys start with `<prefix>:` so deployments and tests can share a server. */
export class AlertStore {
  private readonly redis: RedisClient & StoreCommands;
  private readonly keys: StoreKeys;

  constructor(redis: RedisClient, prefix: string) {
    this.redis = withStoreCommands(redis);
    this.keys = new StoreKeys(prefix);
  }

  /**
   * Stores each alert unless its uuid is already stored or it is a re-sent copy, and puts it in its
   * group. One round trip for the whole batch.
   */
  async createMany(items: NewAlert[], options: CreateOptions): Promise<CreateOutcome[]> {
    const call = (target: StoreCommands, chunk: NewAlert[]) => {
      let now = 0;
      for (const item of chunk) now = Math.max(now, item.receivedAt.getTime());
      const args = createAlertsArgs(
        this.keys,
        {
          now,
          groupWindowSeconds: options.groupWindowSeconds,
          dedupeWindowSeconds: options.dedupeWindowSeconds,
          retentionSeconds: options.retentionSeconds,
          rollupGroups: options.rollupGroups ?? 0,
          rollupWindowSeconds: options.rollupWindowSeconds ?? 0,
        },
        chunk.map((item) => {
          return {
            uuid: item.alert.uuid,
            body: encodeBody({ alert: item.alert, groupKey: item.groupKey }),
            contentKey: item.contentKey,
            groupKey: item.groupKey,
            sample: item.sample,
            channel: item.channel,
            post: item.post,
            held: item.held ?? null,
            receivedAt: item.receivedAt,
            rule: item.alert.rule,
            priority: item.alert.priority,
            place: placeOf(item.alert),
          };
        }),
      );
      return target.fcCreateAlerts(...args);
    };
    const chunks: NewAlert[][] = [];
    for (let i = 0; i < items.length; i += CREATE_BATCH) chunks.push(items.slice(i, i + CREATE_BATCH));
    // One chunk (every single-alert request, most batches): a plain call. A pipeline would copy every
    // script defined on the connection for nothing.
    const replies =
      chunks.length === 1
        ? [await call(this.redis, chunks[0]!)]
        : await (async () => {
            const pipeline = this.redis.pipeline() as unknown as StoreCommands & {
              exec(): Promise<[Error | null, unknown][] | null>;
            };
            for (const chunk of chunks) void call(pipeline, chunk);
            const results = await pipeline.exec();
            if (!results) throw new Error("Redis pipeline was aborted");
            return results.map(([error, value]) => {
              if (error) throw error;
              return value;
            });
          })();
    return replies.flatMap(createAlertsReply);
  }

  /** The group an alert belongs to, read from the group's first alert. */
  async group(uuid: string): Promise<GroupInfo | null> {
    const leader = await this.redis.hget(this.keys.alert(uuid), "group" satisfies AlertHashField);
    if (!leader) return null;
    const [hash, samples, body] = await Promise.all([
      this.redis.hgetall(this.keys.alert(leader)),
      this.redis.smembers(this.keys.samples(leader)),
      this.redis.get(this.keys.body(leader)),
    ]);
    const state = decodeAlertHash(hash);
    if (!state || body === null) return null;
    const stored = decodeBody(body);
    return groupOf(leader, stored, state, samples, sampleOf(stored.alert));
  }

  /**
   * Groups whose window is still open. Read from an index the store script keeps (a sorted set of
   * group pointers by when their window closes) rather than by SCAN, which walks the whole keyspace:
   * about a second of Redis time per scrape at 1.5 million keys.
   */
  async openGroups(now = Date.now()): Promise<number> {
    return this.redis.zcount(this.keys.openGroups, `(${now}`, "+inf");
  }

  /** Records how many occurrences the group's Slack message now shows. */
  async setGroupRendered(leader: string, occurrences: number): Promise<void> {
    await this.update(leader, { groupRendered: occurrences });
  }

  /** The alert a re-sent copy (same content, another uuid) was counted as. */
  async originalOf(uuid: string): Promise<string | null> {
    return this.redis.get(this.keys.copyOf(uuid));
  }

  async get(uuid: string): Promise<StoredAlert | null> {
    const [hash, body] = await Promise.all([
      this.redis.hgetall(this.keys.alert(uuid)),
      this.redis.get(this.keys.body(uuid)),
    ]);
    const state = decodeAlertHash(hash);
    if (!state || body === null) return null;
    return storedAlertOf(decodeBody(body), state);
  }

  /**
   * An alert with its group and the group's first alert. A uuid that was recognised as a re-sent
   * copy answers as the alert it was counted as.
   */
  async getWithGroup(
    uuid: string,
  ): Promise<{ stored: StoredAlert; group: GroupInfo | null; leader: StoredAlert | null } | null> {
    let stored = await this.get(uuid);
    if (!stored) {
      const original = await this.originalOf(uuid);
      stored = original ? await this.get(original) : null;
    }
    if (!stored) return null;
    const group = await this.group(stored.alert.uuid);
    const leader = group && group.leader !== stored.alert.uuid ? await this.get(group.leader) : null;
    return { stored, group, leader };
  }

  /**
   * Finds an alert by its uuid or by a unique prefix of it (at least `minPrefix` characters, and
   * never fewer than the ID_BUCKET_CHARS that name the index bucket to look in).
   */
  async resolve(
    idOrPrefix: string,
    minPrefix = 8,
  ): Promise<{ found: string } | { ambiguous: string[] } | { notFound: true } | { tooShort: true }> {
    const exact = await this.redis.exists(this.keys.alert(idOrPrefix));
    if (exact) return { found: idOrPrefix };
    if (idOrPrefix.length < Math.max(minPrefix, ID_BUCKET_CHARS)) return { tooShort: true };
    // Lexicographic range over a score-0 sorted set: every member of the bucket starting with the prefix.
    const matches = await this.redis.zrangebylex(
      this.keys.idBucket(idOrPrefix),
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
    const ids = await this.redis.zrevrange(this.keys.byTime, 0, limit - 1);
    const alerts = await Promise.all(ids.map((id) => this.get(id)));
    return alerts.filter((a): a is StoredAlert => a !== null);
  }

  /**
   * Records who first acknowledged, escalated or posted the full report; a later caller learns who
   * won. Atomic across processes.
   */
  async claim(
    uuid: string,
    action: "acknowledged" | "escalated" | "reportPosted",
    userId: string,
    at: Date,
  ): Promise<ClaimResult> {
    const reply = claimActionReply(
      await this.redis.fcClaimAction(
        ...claimActionArgs(this.keys.alert(uuid), {
          byField: `${action}By` satisfies AlertHashField,
          atField: `${action}At` satisfies AlertHashField,
          by: userId,
          at,
        }),
      ),
    );
    if (reply.kind === "missing") return { outcome: "missing" };
    if (reply.kind === "already") return { outcome: "already", by: reply.by, at: reply.at };
    return { outcome: "claimed", at: at.toISOString() };
  }

  /**
   * Records how the alert ended; the first caller wins and a later one learns who resolved it.
   * Atomic across processes (resolveAlert.lua). Acknowledged and escalated stay as they were.
   */
  async resolveAlert(
    uuid: string,
    resolution: { verdict: Verdict; note: string | null; by: string; at: Date },
  ): Promise<ResolveResult> {
    const reply = resolveReply(
      await this.redis.fcResolveAlert(...resolveAlertArgs(this.keys.alert(uuid), resolution)),
    );
    if (reply.kind === "already")
      return { outcome: "already", by: reply.by, at: reply.at, verdict: reply.verdict };
    if (reply.kind === "resolved") return { outcome: "resolved", at: resolution.at.toISOString() };
    return { outcome: "missing" };
  }

  /** Clears the alert's resolution, back to the state before it (reopenAlert.lua). */
  async reopenAlert(uuid: string): Promise<ReopenResult> {
    const reply = resolveReply(await this.redis.fcReopenAlert(this.keys.alert(uuid)));
    if (reply.kind === "reopened")
      return { outcome: "reopened", was: { by: reply.by, at: reply.at, verdict: reply.verdict } };
    if (reply.kind === "not_resolved") return { outcome: "not_resolved" };
    return { outcome: "missing" };
  }

  /** Writes these state fields while the alert exists (see updateAlert.lua). */
  private async update(uuid: string, patch: Partial<AlertHash>): Promise<boolean> {
    const fields = encodeAlertHash(patch);
    return updateAlertReply(
      await this.redis.fcUpdateAlert(...updateAlertArgs(this.keys.alert(uuid), fields)),
    );
  }

  async setPosted(uuid: string, ref: SlackRef, at: Date): Promise<void> {
    await this.update(uuid, {
      slackChannel: ref.channel,
      slackTs: ref.ts,
      ...deliveryFields({ status: "posted", error: null, at: at.toISOString() }),
    });
  }

  /**
   * The alert's Slack message is gone (deleted in Slack, or a preview workspace that ended with its
   * process): forget it, so that the next delivery posts a new one.
   */
  async forgetPost(uuid: string): Promise<void> {
    const forgotten: AlertHashField[] = ["slackChannel", "slackTs", "postIntentAt"];
    await this.redis.hdel(this.keys.alert(uuid), ...forgotten);
    await this.update(uuid, deliveryFields({ status: "pending", error: null, at: null }));
  }

  async setPostIntent(uuid: string, at: Date): Promise<void> {
    await this.update(uuid, { postIntentAt: at.toISOString() });
  }

  async setDelivery(uuid: string, delivery: Delivery): Promise<void> {
    await this.update(uuid, deliveryFields(delivery));
  }

  async setExpanded(uuid: string, expanded: boolean): Promise<void> {
    await this.update(uuid, { expanded });
  }

  async setMitigationInThread(uuid: string): Promise<void> {
    await this.update(uuid, { mitigationInThread: true });
  }

  /**
   * Claims the one posting of the full report in the alert's thread: true for the first caller only,
   * so that two clicks do not post it twice; atomic, and false for an alert no longer stored (the
   * claim never makes a half-empty hash of it). `releaseReport` gives the claim back when posting failed.
   */
  async claimReport(uuid: string, userId: string, at: Date): Promise<boolean> {
    return (await this.claim(uuid, "reportPosted", userId, at)).outcome === "claimed";
  }

  async releaseReport(uuid: string): Promise<void> {
    await this.redis.hdel(
      this.keys.alert(uuid),
      "reportPostedBy" satisfies AlertHashField,
      "reportPostedAt" satisfies AlertHashField,
    );
  }

  async setEscalation(uuid: string, ref: SlackRef): Promise<void> {
    await this.update(uuid, { escalation: ref });
  }

  /**
   * Makes `owner` the alert's owner, taking it over from whoever had it (the answer names them), and
   * moves it between the owners' indexes in the same step (see takeOwnership.lua).
   */
  async take(uuid: string, owner: string, at: Date): Promise<TakeResult> {
    const reply = takeOwnershipReply(
      await this.redis.fcTakeOwnership(
        ...takeOwnershipArgs(this.keys, {
          uuid,
          owner,
          at,
          byField: "ownerBy" satisfies AlertHashField,
          atField: "ownerAt" satisfies AlertHashField,
        }),
      ),
    );
    if (reply.kind === "taken") return { outcome: "taken", previous: reply.previous, at: at.toISOString() };
    return { outcome: reply.kind };
  }

  /**
   * The alerts `user` owns, the most recently taken first. Alerts that expired since are dropped
   * from the index as they are found.
   */
  async ownedBy(user: string): Promise<StoredAlert[]> {
    const key = this.keys.ownedBy(user);
    const ids = await this.redis.zrevrange(key, 0, -1);
    const alerts = await Promise.all(ids.map((id) => this.get(id)));
    const gone = ids.filter((_, i) => alerts[i] === null);
    if (gone.length) await this.redis.zrem(key, ...gone);
    // An alert reassigned between the two reads is no longer this user's.
    return alerts.filter((a): a is StoredAlert => a !== null && a.ownedBy === user);
  }
}
