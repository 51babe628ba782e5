import { readFileSync } from "node:fs";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import type { FalcoAlert } from "../../src/falco/alert.js";
import { parseAlertBody } from "../../src/falco/body.js";
import { AlertStore, type CreateOptions, type NewAlert } from "../../src/store/alert-store.js";
import { type AlertHash, decodeAlertHash } from "../../src/store/codec.js";
import { StoreKeys } from "../../src/store/keys.js";
import { TEST_REDIS_URL, dropPrefix, uniquePrefix } from "../../support/redis.js";

const shell = JSON.parse(
  readFileSync(new URL("../../examples/terminal-shell.json", import.meta.url), "utf8"),
) as Record<string, unknown>;

function alert(uuid: string): FalcoAlert {
  const parsed = parseAlertBody(JSON.stringify({ ...shell, uuid }), "json");
  if (!parsed.ok) throw new Error("example alert does not parse");
  return parsed.alerts[0]!;
}
const uuid = (i: number) => `0000cdcd-0000-4000-8000-${String(i).padStart(12, "0")}`;
const options: CreateOptions = { groupWindowSeconds: 600, dedupeWindowSeconds: 600, retentionSeconds: 3600 };
const received = new Date("2026-12-02T10:00:00.000Z");

function item(i: number, overrides: Partial<NewAlert> = {}): NewAlert {
  return {
    alert: alert(uuid(i)),
    channel: "C0STORE",
    post: true,
    groupKey: "group-a",
    sample: `sample ${i}`,
    contentKey: `content-${i}`,
    receivedAt: received,
    ...overrides,
  };
}

/**
 * A store on a key prefix of its own for one describe block, dropped after it, with its keys and a
 * reader of an alert's state hash as the store decodes it.
 */
function storeOnOwnPrefix(name: string): {
  keys: StoreKeys;
  redis: Redis;
  store: AlertStore;
  stateOf: (uuid: string) => Promise<AlertHash | null>;
} {
  const prefix = uniquePrefix(name);
  const redis = new Redis(TEST_REDIS_URL);
  const keys = new StoreKeys(prefix);
  afterAll(async () => {
    redis.disconnect();
    await dropPrefix(prefix);
  });
  const stateOf = async (uuid: string) => decodeAlertHash(await redis.hgetall(keys.alert(uuid)));
  return { keys, redis, store: new AlertStore(redis, prefix), stateOf };
}

/** The store script (CREATE_SCRIPT) against real Redis: each path it can take, and what it leaves. */
describe("AlertStore.createMany", () => {
  const { keys, redis, store, stateOf } = storeOnOwnPrefix("store");

  it("makes the first alert of a group its leader and counts later ones on it, keeping five samples", async () => {
    const outcomes = await store.createMany(
      Array.from({ length: 8 }, (_, i) => item(i + 1)),
      options,
    );
    expect(outcomes[0]).toEqual({ kind: "leader" });
    expect(outcomes.slice(1)).toEqual(
      Array.from({ length: 7 }, (_, i) => ({ kind: "member", leader: uuid(1), occurrences: i + 2 })),
    );
    expect(await stateOf(uuid(1))).toMatchObject({
      group: uuid(1),
      groupCount: 8,
      groupFirst: received.toISOString(),
      groupLast: received.toISOString(),
      deliveryStatus: "pending",
      channel: "C0STORE",
      post: true,
    });
    const member = await stateOf(uuid(2));
    expect(member).toMatchObject({
      group: uuid(1),
      deliveryStatus: "pending",
      receivedAt: received.toISOString(),
    });
    expect(member?.groupCount).toBeUndefined();
    for (const key of [keys.alert(uuid(2)), keys.body(uuid(2))]) {
      const ttl = await redis.ttl(key);
      expect(ttl).toBeGreaterThan(3500);
      expect(ttl).toBeLessThanOrEqual(3600);
    }
    const samples = keys.samples(uuid(1));
    expect((await redis.smembers(samples)).sort()).toEqual([
      "sample 2",
      "sample 3",
      "sample 4",
      "sample 5",
      "sample 6",
    ]);
    // Made with the second occurrence, it expires with the retention like the alerts themselves.
    expect(await redis.ttl(samples)).toBeGreaterThan(3500);
    expect(await redis.zscore(keys.byTime, uuid(8))).toBe(String(received.getTime()));
    // Indexed by uuid prefix, in the bucket its first characters name.
    expect(await redis.zscore(keys.idBucket(uuid(8)), uuid(8))).toBe("0");
    expect((await store.group(uuid(1)))?.occurrences).toBe(8);
  });

  it("reports a uuid stored again as undelivered while pending, and as a duplicate once delivered", async () => {
    expect(await store.createMany([item(1)], options)).toEqual([{ kind: "undelivered" }]);
    await store.setDelivery(uuid(1), { status: "posted", error: null, at: received.toISOString() });
    expect(await store.createMany([item(1)], options)).toEqual([{ kind: "duplicate" }]);
    // Neither counted again on the group.
    expect((await store.group(uuid(1)))?.occurrences).toBe(8);
  });

  it("stores an alert below MIN_PRIORITY as not posted, its delivery settled when it arrived", async () => {
    expect(await store.createMany([item(30, { post: false, groupKey: "group-b" })], options)).toEqual([
      { kind: "leader" },
    ]);
    const stored = await store.get(uuid(30));
    expect(stored?.post).toBe(false);
    expect(stored?.delivery).toMatchObject({ status: "not_posted", at: received.toISOString() });
  });

  it("counts a re-sent copy on its original, and stores it as new once the original is gone", async () => {
    const first = item(40, { contentKey: "same-content", groupKey: "group-c" });
    const copy = item(41, { contentKey: "same-content", groupKey: "group-c" });
    expect(await store.createMany([first, copy], options)).toEqual([
      { kind: "leader" },
      { kind: "copy", original: uuid(40) },
    ]);
    expect((await stateOf(uuid(40)))?.copies).toBe(1);
    expect(await store.originalOf(uuid(41))).toBe(uuid(40));
    expect(await redis.exists(keys.body(uuid(41)))).toBe(0);
    // The original expired (deleted here): the same content is a new alert, and the one to match next.
    await redis.del(keys.alert(uuid(40)), keys.body(uuid(40)));
    const later = item(42, { contentKey: "same-content", groupKey: "group-c" });
    expect(await store.createMany([later], options)).toEqual([{ kind: "leader" }]);
    expect(await redis.get(keys.seen("same-content"))).toBe(uuid(42));
    expect(
      await store.createMany([item(43, { contentKey: "same-content", groupKey: "group-c" })], options),
    ).toEqual([{ kind: "copy", original: uuid(42) }]);
  });

  it("starts a new group when the group's first alert has expired, without bringing it back", async () => {
    expect(await store.createMany([item(60, { groupKey: "group-e" })], options)).toEqual([
      { kind: "leader" },
    ]);
    // The leader expired (deleted here) while its group pointer is still there.
    await redis.del(keys.alert(uuid(60)), keys.body(uuid(60)));
    expect(await redis.exists(keys.group("group-e"))).toBe(1);
    expect(
      await store.createMany([item(61, { groupKey: "group-e" }), item(62, { groupKey: "group-e" })], options),
    ).toEqual([{ kind: "leader" }, { kind: "member", leader: uuid(61), occurrences: 2 }]);
    expect(await redis.exists(keys.alert(uuid(60)))).toBe(0);
    expect(await redis.get(keys.group("group-e"))).toBe(uuid(61));
  });

  it("stores a held-back alert outside any group, so that an alert the hold did not match is posted", async () => {
    const held = item(70, { groupKey: "group-f", held: { status: "silenced", by: "silence-1" } });
    const next = item(71, { groupKey: "group-f" });
    const after = item(72, { groupKey: "group-f" });
    expect(await store.createMany([held, next, after], options)).toEqual([
      { kind: "held", status: "silenced" },
      { kind: "leader" },
      { kind: "member", leader: uuid(71), occurrences: 2 },
    ]);
    expect((await store.get(uuid(70)))?.delivery).toEqual({
      status: "silenced",
      error: null,
      at: received.toISOString(),
      heldBy: "silence-1",
    });
    expect(await store.group(uuid(70))).toBeNull();
    expect(await store.resolve(uuid(70))).toEqual({ found: uuid(70) });
    expect(await store.createMany([item(70)], options)).toEqual([{ kind: "duplicate" }]);
  });

  it("gives every alert its own message with grouping off", async () => {
    const outcomes = await store.createMany(
      [item(50, { groupKey: "group-d" }), item(51, { groupKey: "group-d" })],
      { ...options, groupWindowSeconds: 0 },
    );
    expect(outcomes).toEqual([{ kind: "leader" }, { kind: "leader" }]);
    expect((await stateOf(uuid(51)))?.group).toBe(uuid(51));
  });
});

describe("AlertStore.openGroups", () => {
  const { keys, redis, store } = storeOnOwnPrefix("open-groups");

  it("counts the groups whose window is open, once each, from the index the store script keeps", async () => {
    const now = new Date();
    const at = (i: number, groupKey: string, receivedAt = now) => item(100 + i, { groupKey, receivedAt });
    expect(await store.openGroups()).toBe(0);
    // Three groups, the first with two more occurrences: three open, not five.
    await store.createMany([at(1, "g1"), at(2, "g1"), at(3, "g2"), at(4, "g3"), at(5, "g1")], options);
    expect(await store.openGroups()).toBe(3);
    // Each window closes groupWindowSeconds after the group's first alert.
    expect(await store.openGroups(now.getTime() + 599_000)).toBe(3);
    expect(await store.openGroups(now.getTime() + 600_000)).toBe(0);
    // A group whose window closed long ago is not counted, and the next script call drops it.
    await store.createMany([at(6, "g-old", new Date(now.getTime() - 3_600_000))], options);
    expect(await redis.zcard(keys.openGroups)).toBe(4);
    expect(await store.openGroups()).toBe(3);
    await store.createMany([at(7, "g2")], options);
    expect(await redis.zcard(keys.openGroups)).toBe(3);
    // Grouping off: no group, nothing counted.
    await store.createMany([at(8, "g4")], { ...options, groupWindowSeconds: 0 });
    expect(await store.openGroups()).toBe(3);
  });
});

describe("AlertStore.resolve", () => {
  const { keys, redis, store } = storeOnOwnPrefix("resolve");

  it("finds an alert by uuid or by a unique prefix, in its index bucket", async () => {
    const ids = ["abcd1234-0000-4000-8000-000000000001", "abcd1234-1111-4000-8000-000000000002"];
    await store.createMany(
      ids.map((id, i) => item(200 + i, { groupKey: `g-${i}`, alert: alert(id) })),
      options,
    );
    expect(await store.resolve(ids[0]!)).toEqual({ found: ids[0] });
    expect(await store.resolve("abcd1234-")).toEqual({ ambiguous: ids });
    expect(await store.resolve("abcd1234-11")).toEqual({ found: ids[1] });
    expect(await store.resolve("abcd")).toEqual({ tooShort: true });
    expect(await store.resolve("abcd9999")).toEqual({ notFound: true });
  });

  it("drops expired alerts from the bucket and from the by-time index", async () => {
    const gone = "ef010000-0000-4000-8000-000000000001";
    await redis.zadd(keys.idBucket(gone), 0, gone);
    await redis.zadd(keys.byTime, received.getTime() - 7_200_000, gone);
    // The next call, an hour past the retention of the old entry, trims it from both.
    await store.createMany([item(300, { groupKey: "g-trim" })], options);
    expect(await redis.exists(keys.idBucket(gone))).toBe(0);
    expect(await redis.zscore(keys.byTime, gone)).toBeNull();
    expect(await redis.zscore(keys.byTime, uuid(300))).not.toBeNull();
  });
});

describe("AlertStore.claimReport", () => {
  const { keys, redis, store, stateOf } = storeOnOwnPrefix("report");

  it("lets one caller post the full report, names them, gives the claim back, and never makes a hash of an alert that is gone", async () => {
    await store.createMany([item(400, { groupKey: "g-report" })], options);
    expect(await store.claimReport(uuid(400), "U0FIRST", received)).toBe(true);
    expect(await store.claimReport(uuid(400), "U0SECOND", received)).toBe(false);
    expect(await stateOf(uuid(400))).toMatchObject({
      reportPostedBy: "U0FIRST",
      reportPostedAt: received.toISOString(),
    });
    await store.releaseReport(uuid(400));
    expect(await store.claimReport(uuid(400), "U0SECOND", received)).toBe(true);

    const gone = uuid(401);
    expect(await store.claimReport(gone, "U0FIRST", received)).toBe(false);
    expect(await redis.exists(keys.alert(gone))).toBe(0);
  });
});
