import type { RedisClient } from "../redis/connection.js";
import type { FalcoAlert } from "../falco/alert.js";
import { parseJsonLossless, stringifyLossless } from "../falco/json.js";
import { hashKey, sampleOf } from "../route/grouping.js";

export type AlertState = "new" | "acknowledged" | "escalated";

export interface SlackRef {
  channel: string;
  ts: string;
}

export interface Delivery {
  status: "pending" | "posted" | "preview" | "failed" | "grouped" | "not_posted";
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
  /** The channel routing chose when the alert arrived (null for alerts stored before routing). */
  channel: string | null;
  /** false when the alert was below MIN_PRIORITY: stored, not posted. */
  post: boolean;
  /** The first alert of this alert's group (itself when it is the first). */
  group: string | null;
  /** When a worker last started posting it: a retry after a crash looks for that post first. */
  postIntentAt: string | null;
}

export function stateOf(stored: StoredAlert): AlertState {
  if (stored.escalatedBy) return "escalated";
  if (stored.acknowledgedBy) return "acknowledged";
  return "new";
}

/** What storing one alert did. */
export type CreateOutcome =
  | { kind: "leader" }
  | { kind: "member"; leader: string; occurrences: number }
  | { kind: "undelivered" }
  | { kind: "duplicate" }
  | { kind: "copy"; original: string };

/** One alert to store, with the decisions the web process made about it. */
export interface NewAlert {
  alert: FalcoAlert;
  channel: string;
  /** false below MIN_PRIORITY: stored, never posted. */
  post: boolean;
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

/** The uuid-prefix index is split by this many leading characters of the uuid (see CREATE_SCRIPT). */
export const ID_BUCKET_CHARS = 4;

// Creates the alert only if its uuid is new, recognises a re-sent copy by content, indexes the
// alert and puts it in its group, in one atomic step.
//
// Layout, chosen for memory: the alert itself (immutable, ~1-2 KB of JSON) is a string key
// `alert:<uuid>:body`; its mutable state is the hash `alert:<uuid>` whose values all stay short, so
// that Redis keeps it in its compact listpack encoding (a hash holding one long value is converted
// to a full hash table, which costs about twice the bytes). A group's samples are a set created only
// when a second occurrence arrives; the first one's is read from its alert.
//
// The uuid-prefix index is split by the uuid's first ID_BUCKET_CHARS characters into small sorted
// sets (`alerts:ids:<first four>`), which Redis keeps as listpacks: adding to one large set of
// score-0 members compared every uuid byte by byte down a skip list, about a fifth of the script's
// time.
//
// One call stores a whole batch (up to CREATE_BATCH alerts), alert after alert, so that a batch
// costs one script call instead of one per alert; the by-time index gets one ZADD per call.
// Speed: Redis's time per alert follows the number of commands, so each check is the one command
// that also does the work where it can (SET NX for the content key, HINCRBY for the group).
// KEYS: 1 ids (the uuid-prefix buckets are named after it), 2 by-time index (also the
// "recent" list), 3 open groups (group pointer keys scored by when their window closes), then per
// alert: alert hash, alert body, seen (content key), group pointer.
// ARGV: 1 now (ms, the latest alert's arrival: index entries older than the retention and open groups
// whose window has closed are removed), 2 group window s (0: no grouping), 3 alert key prefix,
// 4 dedupe window s (0: off), 5 retention s, then per alert: body JSON, uuid, sample, channel, post
// ("1"; "0" below MIN_PRIORITY: stored as not_posted, its delivery settled when it arrived),
// receivedAt, score (receivedAt in ms).
// Returns, per alert, three values: 'duplicate' (uuid stored and handled), 'undelivered' (stored,
// not yet delivered: enqueue again, BullMQ's job id keeps that idempotent), 'copy' + original uuid,
// 'leader', or 'member' + leader uuid + occurrences ('' where a value does not apply).
const CREATE_SCRIPT = `
local out = {}
local now, window, prefix, dedupe, retention = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local byTime = {}
local function bucket(uuid)
  return KEYS[1] .. ':' .. string.sub(uuid, 1, ${ID_BUCKET_CHARS})
end
local function create(alertKey, bodyKey, seenKey, groupKey, body, uuid, sample, channel, post, receivedAt, score)
  local stored = redis.call('HGET', alertKey, 'deliveryStatus')
  if stored then
    if stored == 'pending' then return 'undelivered' end
    return 'duplicate'
  end
  if dedupe ~= '0' and not redis.call('SET', seenKey, uuid, 'NX', 'EX', dedupe) then
    local original = redis.call('GET', seenKey)
    if original and redis.call('EXISTS', prefix .. original) == 1 then
      redis.call('HINCRBY', prefix .. original, 'copies', 1)
      redis.call('SET', prefix .. uuid .. ':copy-of', original, 'EX', dedupe)
      return 'copy', original
    end
    -- The alert it named has expired: this one takes its place.
    redis.call('SET', seenKey, uuid, 'EX', dedupe)
  end
  redis.call('SET', bodyKey, body, 'EX', retention)
  redis.call('ZADD', bucket(uuid), 0, uuid)
  byTime[#byTime + 1] = score
  byTime[#byTime + 1] = uuid
  local leader, n
  if window ~= '0' then
    leader = redis.call('GET', groupKey)
    if leader then
      local leaderKey = prefix .. leader
      n = redis.call('HINCRBY', leaderKey, 'groupCount', 1)
      if n == 1 then
        -- The group's first alert has expired (HINCRBY made an empty hash of it): start a new group.
        redis.call('DEL', leaderKey)
        leader = nil
      else
        redis.call('HSET', leaderKey, 'groupLast', receivedAt)
        local samples = leaderKey .. ':samples'
        if redis.call('SCARD', samples) < 5 and redis.call('SADD', samples, sample) == 1 then
          redis.call('EXPIRE', samples, retention)
        end
      end
    end
    if not leader then
      redis.call('SET', groupKey, uuid, 'EX', window)
      redis.call('ZADD', KEYS[3], tonumber(score) + tonumber(window) * 1000, groupKey)
    end
  end
  local fields = {'receivedAt', receivedAt, 'channel', channel, 'post', post}
  if post == '1' then
    fields[7], fields[8] = 'deliveryStatus', 'pending'
  else
    fields[7], fields[8], fields[9], fields[10] = 'deliveryStatus', 'not_posted', 'deliveryAt', receivedAt
  end
  local f = #fields
  if leader then
    fields[f + 1], fields[f + 2] = 'group', leader
  else
    fields[f + 1], fields[f + 2], fields[f + 3], fields[f + 4] = 'group', uuid, 'groupCount', 1
    fields[f + 5], fields[f + 6], fields[f + 7], fields[f + 8] = 'groupFirst', receivedAt, 'groupLast', receivedAt
  end
  redis.call('HSET', alertKey, unpack(fields))
  redis.call('EXPIRE', alertKey, retention)
  if leader then return 'member', leader, tostring(n) end
  return 'leader'
end
local n = (#KEYS - 3) / 4
for i = 0, n - 1 do
  local k, a = 3 + i * 4, 5 + i * 7
  local kind, x, y = create(KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4],
    ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], ARGV[a + 6], ARGV[a + 7])
  out[#out + 1] = kind
  out[#out + 1] = x or ''
  out[#out + 1] = y or ''
end
if #byTime > 0 then redis.call('ZADD', KEYS[2], unpack(byTime)) end
-- Retention: alerts' keys expire by themselves; their index entries are removed a few at a time here.
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(retention) * 1000, 'LIMIT', 0, 100)
if #expired > 0 then
  for _, old in ipairs(expired) do redis.call('ZREM', bucket(old), old) end
  redis.call('ZREM', KEYS[2], unpack(expired))
end
-- Groups whose window has closed.
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
return out`;

/** Alerts per script call: large enough to amortise the call, small enough not to hold Redis up. */
export const CREATE_BATCH = 250;

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
  /** numkeys, then keys and arguments (see CREATE_SCRIPT). */
  fcCreate(numKeys: number, ...keysAndArgs: string[]): Promise<string[]>;
  fcClaim(alertKey: string, ...args: string[]): Promise<string[]>;
  fcUpdate(alertKey: string, ...args: string[]): Promise<number>;
}

/** The immutable part of a stored alert. */
interface StoredBody {
  alert: FalcoAlert;
  groupKey: string;
}

const NOT_POSTED_REASON = "below MIN_PRIORITY: stored, not posted";

/** Delivery state as short hash fields (see the layout note above). */
function deliveryFields(d: Delivery): Record<string, string> {
  return {
    deliveryStatus: d.status,
    deliveryError: d.status === "not_posted" ? "" : (d.error ?? ""),
    deliveryAt: d.at ?? "",
  };
}

function deliveryOf(hash: Record<string, string>): Delivery {
  const status = (hash.deliveryStatus ?? "pending") as Delivery["status"];
  return {
    status,
    error: status === "not_posted" ? NOT_POSTED_REASON : hash.deliveryError || null,
    at: hash.deliveryAt || null,
  };
}

function outcomeOf([kind, a, b]: string[]): CreateOutcome {
  if (kind === "leader") return { kind };
  if (kind === "member") return { kind, leader: a!, occurrences: Number(b) };
  if (kind === "copy") return { kind, original: a! };
  return { kind: kind === "undelivered" ? "undelivered" : "duplicate" };
}

/** Alerts and their triage state in Redis. Keys start with `<prefix>:` so deployments and tests can share a server. */
export class AlertStore {
  private readonly redis: RedisClient & Scripts;

  constructor(
    redis: RedisClient,
    private readonly prefix: string,
  ) {
    if (!("fcCreate" in redis)) {
      redis.defineCommand("fcCreate", { lua: CREATE_SCRIPT });
      redis.defineCommand("fcClaim", { numberOfKeys: 1, lua: CLAIM_SCRIPT });
      redis.defineCommand("fcUpdate", { numberOfKeys: 1, lua: UPDATE_SCRIPT });
    }
    this.redis = redis as RedisClient & Scripts;
  }

  private alertKey(uuid: string): string {
    return `${this.prefix}:alert:${uuid}`;
  }
  private get idsKey(): string {
    return `${this.prefix}:alerts:ids`;
  }
  private get byTimeKey(): string {
    return `${this.prefix}:alerts:by-time`;
  }

  private get openGroupsKey(): string {
    return `${this.prefix}:groups:open`;
  }

  /**
   * Stores each alert unless its uuid is already stored or it is a re-sent copy, and puts it in its
   * group. One round trip for the whole batch.
   */
  async createMany(items: NewAlert[], options: CreateOptions): Promise<CreateOutcome[]> {
    const call = (target: Scripts, chunk: NewAlert[]) => {
      let latest = 0;
      for (const item of chunk) latest = Math.max(latest, item.receivedAt.getTime());
      const keys = [this.idsKey, this.byTimeKey, this.openGroupsKey];
      const args = [
        String(latest),
        String(options.groupWindowSeconds),
        `${this.prefix}:alert:`,
        String(options.dedupeWindowSeconds),
        String(options.retentionSeconds),
      ];
      for (const item of chunk) {
        const { alert } = item;
        const body: StoredBody = { alert, groupKey: item.groupKey };
        const alertKey = this.alertKey(alert.uuid);
        keys.push(
          alertKey,
          `${alertKey}:body`,
          `${this.prefix}:seen:${item.contentKey}`,
          `${this.prefix}:group:${hashKey(item.groupKey)}`,
        );
        args.push(
          stringifyLossless(body),
          alert.uuid,
          item.sample,
          item.channel,
          item.post ? "1" : "0",
          item.receivedAt.toISOString(),
          String(item.receivedAt.getTime()),
        );
      }
      return target.fcCreate(keys.length, ...keys, ...args);
    };
    const chunks: NewAlert[][] = [];
    for (let i = 0; i < items.length; i += CREATE_BATCH) chunks.push(items.slice(i, i + CREATE_BATCH));
    // One chunk (every single-alert request, most batches): a plain call. A pipeline would copy every
    // script defined on the connection for nothing.
    const replies =
      chunks.length === 1
        ? [await call(this.redis, chunks[0]!)]
        : await (async () => {
            const pipeline = this.redis.pipeline() as unknown as Scripts & {
              exec(): Promise<[Error | null, unknown][] | null>;
            };
            for (const chunk of chunks) void call(pipeline, chunk);
            const results = await pipeline.exec();
            if (!results) throw new Error("Redis pipeline was aborted");
            return results.map(([error, value]) => {
              if (error) throw error;
              return value as string[];
            });
          })();
    const outcomes: CreateOutcome[] = [];
    for (const reply of replies)
      for (let i = 0; i < reply.length; i += 3)
        outcomes.push(outcomeOf([reply[i]!, reply[i + 1]!, reply[i + 2]!]));
    return outcomes;
  }

  /** The group an alert belongs to, read from the group's first alert. */
  async group(uuid: string): Promise<GroupInfo | null> {
    const leader = await this.redis.hget(this.alertKey(uuid), "group");
    if (!leader) return null;
    const leaderKey = this.alertKey(leader);
    const [hash, samples, body] = await Promise.all([
      this.redis.hmget(leaderKey, "groupCount", "groupFirst", "groupLast", "groupRendered"),
      this.redis.smembers(`${leaderKey}:samples`),
      this.redis.get(`${leaderKey}:body`),
    ]);
    const [count, first, last, rendered] = hash;
    if (count === null || body === null) return null;
    const stored = parseJsonLossless(body) as StoredBody;
    const all = new Set(samples);
    all.add(sampleOf(stored.alert));
    return {
      leader,
      key: stored.groupKey,
      occurrences: Number(count),
      firstSeen: first ?? "",
      lastSeen: last ?? "",
      samples: [...all].sort().slice(0, 5),
      rendered: Number(rendered ?? 0),
    };
  }

  /**
   * Groups whose window is still open. Read from an index the store script keeps (a sorted set of
   * group pointers by when their window closes) rather than by SCAN, which walks the whole keyspace:
   * about a second of Redis time per scrape at 1.5 million keys.
   */
  async openGroups(now = Date.now()): Promise<number> {
    return this.redis.zcount(this.openGroupsKey, `(${now}`, "+inf");
  }

  /** Records how many occurrences the group's Slack message now shows. */
  async setGroupRendered(leader: string, occurrences: number): Promise<void> {
    await this.update(leader, { groupRendered: String(occurrences) });
  }

  /** The alert a re-sent copy (same content, another uuid) was counted as. */
  async originalOf(uuid: string): Promise<string | null> {
    return this.redis.get(`${this.alertKey(uuid)}:copy-of`);
  }

  async get(uuid: string): Promise<StoredAlert | null> {
    const key = this.alertKey(uuid);
    const [hash, body] = await Promise.all([this.redis.hgetall(key), this.redis.get(`${key}:body`)]);
    if (!body || !hash.receivedAt) return null;
    const { alert } = parseJsonLossless(body) as StoredBody;
    return {
      alert,
      receivedAt: hash.receivedAt ?? "",
      acknowledgedBy: hash.acknowledgedBy ?? null,
      acknowledgedAt: hash.acknowledgedAt ?? null,
      escalatedBy: hash.escalatedBy ?? null,
      escalatedAt: hash.escalatedAt ?? null,
      escalation: hash.escalation ? (JSON.parse(hash.escalation) as SlackRef) : null,
      slack: hash.slackChannel && hash.slackTs ? { channel: hash.slackChannel, ts: hash.slackTs } : null,
      expanded: hash.expanded === "1",
      mitigationInThread: hash.mitigationInThread === "1",
      delivery: deliveryOf(hash),
      channel: hash.channel || null,
      post: hash.post !== "0",
      group: hash.group ?? null,
      postIntentAt: hash.postIntentAt ?? null,
    };
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
    const exact = await this.redis.exists(this.alertKey(idOrPrefix));
    if (exact) return { found: idOrPrefix };
    if (idOrPrefix.length < Math.max(minPrefix, ID_BUCKET_CHARS)) return { tooShort: true };
    // Lexicographic range over a score-0 sorted set: every member of the bucket starting with the prefix.
    const matches = await this.redis.zrangebylex(
      `${this.idsKey}:${idOrPrefix.slice(0, ID_BUCKET_CHARS)}`,
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
    const ids = await this.redis.zrevrange(this.byTimeKey, 0, limit - 1);
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
      ...deliveryFields({ status: "posted", error: null, at: at.toISOString() }),
    });
  }

  /**
   * The alert's Slack message is gone (deleted in Slack, or a preview workspace that ended with its
   * process): forget it, so that the next delivery posts a new one.
   */
  async forgetPost(uuid: string): Promise<void> {
    const key = this.alertKey(uuid);
    await this.redis.hdel(key, "slackChannel", "slackTs", "postIntentAt");
    await this.update(uuid, deliveryFields({ status: "pending", error: null, at: null }));
  }

  async setPostIntent(uuid: string, at: Date): Promise<void> {
    await this.update(uuid, { postIntentAt: at.toISOString() });
  }

  async setDelivery(uuid: string, delivery: Delivery): Promise<void> {
    await this.update(uuid, deliveryFields(delivery));
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
