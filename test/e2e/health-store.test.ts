import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import type { FalcoAlert } from "../../src/falco/alert.js";
import { parseAlertBody } from "../../src/falco/body.js";
import { HealthIntake } from "../../src/health/intake.js";
import { metricsSnapshotOf } from "../../src/health/signals.js";
import { HealthStore } from "../../src/store/health-store.js";
import { TEST_REDIS_URL, dropPrefix, uniquePrefix } from "../../support/redis.js";

/*
 * The health store's scripts on real Redis, called by many "processes" at once (one connection
 * each): one outage per silence, one claim per message, one count per drop alert however often it
 * is re-sent, and a new episode after the gap.
 */
describe("health store", () => {
  const prefix = uniquePrefix("health-store");
  const connections = Array.from({ length: 8 }, () => new Redis(TEST_REDIS_URL));
  const stores = connections.map((c) => new HealthStore(c, prefix));
  const store = stores[0]!;
  afterAll(async () => {
    for (const c of connections) c.disconnect();
    await dropPrefix(prefix);
  });

  it("opens one outage per silence across concurrent checks, closes it when the host is heard from, and claims one post", async () => {
    const now = Date.now();
    await store.recordSnapshot("node-1", now - 10_000, metricsSnapshotOf({ "falco.version": "0.41.0" }));
    await store.seen(new Map([["node-1", now - 10_000]]));
    const options = { now, thresholdMs: 5000, snapshotAt: now - 10_000 };
    const opened = await Promise.all(
      stores.flatMap((s) => [s.openOutage("node-1", options), s.openOutage("node-1", options)]),
    );
    expect(opened.filter((o) => o.kind === "opened")).toEqual([{ kind: "opened", since: now - 10_000 }]);
    expect(await store.openOutages()).toEqual(["node-1"]);
    // Heard from within the threshold: nothing opens.
    await store.seen(new Map([["node-2", now - 1000]]));
    expect(await store.openOutage("node-2", { ...options, snapshotAt: now - 1000 })).toEqual({
      kind: "alive",
    });

    const claims = await Promise.all(stores.map((s) => s.claimPost("outage", "node-1", now, 60_000)));
    expect(claims.filter((c) => c.kind === "claimed")).toHaveLength(1);
    expect(claims.filter((c) => c.kind === "busy")).toHaveLength(stores.length - 1);
    await store.setPosted("outage", "node-1", { channel: "C0HEALTH", ts: "1.000100" });
    expect(await store.claimPost("outage", "node-1", now, 60_000)).toEqual({
      kind: "posted",
      channel: "C0HEALTH",
      ts: "1.000100",
    });

    expect(await store.closeOutage("node-1")).toEqual({ kind: "silent" });
    await store.seen(new Map([["node-1", now + 500]]));
    const closed = await Promise.all(stores.map((s) => s.closeOutage("node-1")));
    // Every caller learns it is back, with the first alert after the silence.
    expect(new Set(closed.map((c) => JSON.stringify(c)))).toEqual(
      new Set([JSON.stringify({ kind: "back", since: now - 10_000, backAt: now + 500 })]),
    );
    await store.finishOutage("node-1");
    expect(await store.openOutages()).toEqual([]);
    expect(await store.closeOutage("node-1")).toEqual({ kind: "none" });
  });

  it("counts a drop alert once however often it is re-sent, and starts a new episode after the gap", async () => {
    const t0 = Date.now();
    const event = (at: number, drops: number, falcoTime: string) => ({
      host: "node-3",
      kind: "drops" as const,
      at,
      drops,
      falcoTime,
      lastEventTime: null,
    });
    const options = { episodeGapSeconds: 60, keepSeconds: 3600 };
    const first = await Promise.all(
      stores.map((s) => s.recordLoss(event(t0, 7, "2026-01-01T00:00:00.000000001Z"), options)),
    );
    expect(first.map((r) => r.status).sort()).toEqual([...Array(stores.length - 1).fill("copy"), "new"]);
    await store.recordLoss(event(t0 + 1000, 3, "2026-01-01T00:00:01.000000001Z"), options);
    expect(await store.episode("node-3")).toMatchObject({
      drops: 10,
      dropAlerts: 2,
      startedAt: t0,
      lastAt: t0 + 1000,
    });
    expect(await store.partialVisibility("node-3", t0 + 200_000)).toMatchObject({ drops: 10, dropAlerts: 2 });
    // Outside ±5 minutes of the alert: no note.
    expect(await store.partialVisibility("node-3", t0 + 400_000)).toBeNull();
    // The gap passed: a new episode, its own totals.
    const later = await store.recordLoss(event(t0 + 120_000, 4, "2026-01-01T00:02:00.000000001Z"), options);
    expect(later).toEqual({ status: "new", startedAt: t0 + 120_000 });
    expect(await store.episode("node-3")).toMatchObject({ drops: 4, dropAlerts: 1, message: null });
  });
});

describe("last seen at ingest", () => {
  const prefix = uniquePrefix("health-seen");
  const redis = new Redis(TEST_REDIS_URL);
  const store = new HealthStore(redis, prefix);
  const intake = new HealthIntake({
    store,
    jobs: { showEpisode: () => Promise.resolve() },
    retentionSeconds: 3600,
    lastSeenResolutionMs: 5000,
  });
  afterAll(async () => {
    redis.disconnect();
    await dropPrefix(prefix);
  });
  const alertFrom = (hostname: string): FalcoAlert => {
    const parsed = parseAlertBody(
      JSON.stringify({
        rule: "Terminal shell in container",
        priority: "Notice",
        output: "x",
        hostname,
        time: "2026-12-06T10:00:00Z",
      }),
      "json",
    );
    if (!parsed.ok) throw new Error("alert does not parse");
    return parsed.alerts[0]!;
  };
  const lastSeenOf = async (host: string) => (await store.lastSeen([host])).get(host);

  it("writes a host's arrival once per resolution, and at once when it is heard from again after longer", async () => {
    const t0 = Date.parse("2026-12-06T10:00:00Z");
    await intake.seen([{ alert: alertFrom("node-a"), receivedAt: new Date(t0) }]);
    expect(await lastSeenOf("node-a")).toBe(t0);
    // A storm from the same host within the resolution costs no write.
    await intake.seen([{ alert: alertFrom("node-a"), receivedAt: new Date(t0 + 4000) }]);
    expect(await lastSeenOf("node-a")).toBe(t0);
    // Another host in the same batch is still written.
    await intake.seen([
      { alert: alertFrom("node-a"), receivedAt: new Date(t0 + 4500) },
      { alert: alertFrom("node-b"), receivedAt: new Date(t0 + 4500) },
    ]);
    expect(await lastSeenOf("node-b")).toBe(t0 + 4500);
    expect(await lastSeenOf("node-a")).toBe(t0);
    // Past the resolution, or back after a silence: written.
    await intake.seen([{ alert: alertFrom("node-a"), receivedAt: new Date(t0 + 5000) }]);
    expect(await lastSeenOf("node-a")).toBe(t0 + 5000);
    await intake.seen([{ alert: alertFrom("node-a"), receivedAt: new Date(t0 + 900_000) }]);
    expect(await lastSeenOf("node-a")).toBe(t0 + 900_000);
  });
});
