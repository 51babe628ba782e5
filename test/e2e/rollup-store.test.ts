import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { parseAlertBody } from "../../src/falco/body.js";
import { AlertStore, type CreateOptions, type NewAlert } from "../../src/store/alert-store.js";
import { RollupStore } from "../../src/store/rollups.js";
import { dropPrefix, TEST_REDIS_URL, uniquePrefix } from "../../support/redis.js";

/** createAlerts.lua's fleet roll-up against real Redis: when one opens, what it counts, when it closes. */
describe("fleet roll-ups in the store", () => {
  const prefix = uniquePrefix("rollup-store");
  const redis = new Redis(TEST_REDIS_URL);
  const store = new AlertStore(redis, prefix);
  const rollups = new RollupStore(redis, prefix);
  afterAll(async () => {
    redis.disconnect();
    await dropPrefix(prefix);
  });

  let serial = 0;
  /** A new group of `rule` on `host` in `channel`, arriving at `at`. */
  function group(rule: string, host: string, at: Date, channel = "C0STORE"): NewAlert {
    const i = ++serial;
    const uuid = `0000abab-0000-4000-8000-${String(i).padStart(12, "0")}`;
    const parsed = parseAlertBody(
      JSON.stringify({
        uuid,
        rule,
        priority: "Warning",
        source: "syscall",
        hostname: host,
        time: `2026-12-02T10:00:00.${String(i).padStart(9, "0")}Z`,
        output: `opened /etc/shadow (${i})`,
        output_fields: { "k8s.ns.name": "ns-a", "k8s.pod.name": `${host}-pod` },
      }),
      "json",
    );
    if (!parsed.ok) throw new Error("test alert does not parse");
    return {
      alert: parsed.alerts[0]!,
      channel,
      post: true,
      groupKey: `${rule}|${host}`,
      sample: "cat /etc/shadow",
      contentKey: `content-${i}`,
      receivedAt: at,
    };
  }
  const options = (windowSeconds: number): CreateOptions => ({
    groupWindowSeconds: 600,
    dedupeWindowSeconds: 600,
    retentionSeconds: 3600,
    rollupGroups: 3,
    rollupWindowSeconds: windowSeconds,
  });
  const at = (seconds: number) => new Date(Date.UTC(2026, 11, 2, 10, 0, seconds));

  it("opens on the group over the threshold, taking in the groups counted before it, in one batch", async () => {
    const batch = Array.from({ length: 6 }, (_, i) => group("Rule A", `a-${i}`, at(i)));
    const outcomes = await store.createMany(batch, options(300));
    const id = batch[3]!.alert.uuid;
    expect(outcomes).toEqual([
      { kind: "leader" },
      { kind: "leader" },
      { kind: "leader" },
      { kind: "rolled_up", rollup: id, opened: true },
      { kind: "rolled_up", rollup: id, opened: false },
      { kind: "rolled_up", rollup: id, opened: false },
    ]);
    // A second occurrence of a group posted on its own counts on the roll-up and on its own message.
    const again = { ...group("Rule A", "a-0", at(10)), groupKey: batch[0]!.groupKey };
    expect(await store.createMany([again], options(300))).toEqual([
      { kind: "member", leader: batch[0]!.alert.uuid, occurrences: 2, rollup: id, ownMessage: true },
    ]);
    const r = (await rollups.get(id))!;
    expect(r).toMatchObject({
      groups: 6,
      occurrences: 7,
      open: true,
      ownMessages: batch.slice(0, 3).map((b) => b.alert.uuid),
    });
    expect(r.hosts).toEqual({
      count: 6,
      busiest: [
        { name: "a-0", occurrences: 2 },
        { name: "a-5", occurrences: 1 },
        { name: "a-4", occurrences: 1 },
        { name: "a-3", occurrences: 1 },
        { name: "a-2", occurrences: 1 },
      ],
    });
    expect(r.namespaces).toEqual({ count: 1, busiest: [{ name: "ns-a", occurrences: 7 }] });
    expect(r.firstSeen).toBe(at(0).toISOString());
    expect((await store.get(batch[4]!.alert.uuid))?.delivery.status).toBe("rolled_up");
    expect((await store.get(batch[0]!.alert.uuid))?.rollup).toBe(id);
  });

  it("counts new groups in a sliding window: groups older than it do not count", async () => {
    const old = [0, 1, 2].map((s) => group("Rule B", `b-${s}`, at(s)));
    expect(await store.createMany(old, options(300))).toEqual(old.map(() => ({ kind: "leader" })));
    // Five minutes and more later: the three earlier groups have left the window.
    const later = group("Rule B", "b-late", at(301));
    expect(await store.createMany([later], options(300))).toEqual([{ kind: "leader" }]);
  });

  it("closes when no new group joined within the window; the next groups count again", async () => {
    const first = [0, 1, 2, 3].map((i) => group("Rule C", `c-${i}`, new Date()));
    const outcomes = await store.createMany(first, options(1));
    expect(outcomes[3]).toMatchObject({ kind: "rolled_up", opened: true });
    const id = first[3]!.alert.uuid;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await rollups.get(id))?.open).toBe(false);
    const next = [4, 5, 6, 7].map((i) => group("Rule C", `c-${i}`, new Date()));
    const again = await store.createMany(next, options(1));
    expect(again.slice(0, 3)).toEqual([{ kind: "leader" }, { kind: "leader" }, { kind: "leader" }]);
    expect(again[3]).toEqual({ kind: "rolled_up", rollup: next[3]!.alert.uuid, opened: true });
  });

  it("keeps rules and channels apart, and leaves held alerts and those not to be posted out", async () => {
    const batch = [0, 1, 2, 3].map((i) => group("Rule D", `d-${i}`, at(i)));
    const outcomes = await store.createMany(
      [
        ...batch,
        group("Rule D", "d-other-channel", at(5), "C0OTHER"),
        group("Rule D-prime", "d-other-rule", at(5)),
        { ...group("Rule D", "d-held", at(5)), held: { status: "silenced", by: "s-1" } },
        { ...group("Rule D", "d-quiet", at(5)), post: false },
      ],
      options(300),
    );
    expect(outcomes.slice(4)).toEqual([
      { kind: "leader" },
      { kind: "leader" },
      { kind: "held", status: "silenced" },
      { kind: "leader" },
    ]);
    expect((await rollups.get(batch[3]!.alert.uuid))?.groups).toBe(4);
  });
});
