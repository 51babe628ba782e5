import { readFileSync } from "node:fs";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import type { FalcoAlert } from "../../src/falco/alert.js";
import { parseAlertBody } from "../../src/falco/body.js";
import { AlertStore, type CreateOptions, type NewAlert, stateOf } from "../../src/store/alert-store.js";
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
const uuid = (i: number) => `0000eeee-0000-4000-8000-${String(i).padStart(12, "0")}`;
const options: CreateOptions = { groupWindowSeconds: 600, dedupeWindowSeconds: 0, retentionSeconds: 3600 };

function item(i: number, groupKey = "group-r"): NewAlert {
  return {
    alert: alert(uuid(i)),
    channel: "C0STORE",
    post: true,
    groupKey,
    sample: `sample ${i}`,
    contentKey: `content-${i}`,
    receivedAt: new Date(Date.UTC(2026, 11, 2, 10, 0, i)),
  };
}

describe("resolving an alert in the store", () => {
  const prefix = uniquePrefix("resolution");
  const redis = new Redis(TEST_REDIS_URL);
  const store = new AlertStore(redis, prefix);
  const keys = new StoreKeys(prefix);
  afterAll(async () => {
    redis.disconnect();
    await dropPrefix(prefix);
  });

  it("records the first of two simultaneous resolutions; the other learns who and when", async () => {
    await store.createMany([item(1, "race")], options);
    await store.claim(uuid(1), "acknowledged", "U0ACK", new Date("2026-12-02T10:01:00.000Z"));
    const at = new Date("2026-12-02T10:05:00.000Z");
    // Separate connections, as two web processes would have.
    const other = new Redis(TEST_REDIS_URL);
    try {
      const results = await Promise.all([
        store.resolveAlert(uuid(1), { verdict: "false_positive", note: "cron", by: "U0ALICE", at }),
        new AlertStore(other, prefix).resolveAlert(uuid(1), {
          verdict: "true_positive",
          note: null,
          by: "U0BOB",
          at,
        }),
      ]);
      const winners = results.filter((r) => r.outcome === "resolved");
      expect(winners).toHaveLength(1);
      const stored = (await store.get(uuid(1)))!;
      const loser = results.find((r) => r.outcome === "already")!;
      expect(loser).toEqual({
        outcome: "already",
        by: stored.resolution!.by,
        at: "2026-12-02T10:05:00.000Z",
        verdict: stored.resolution!.verdict,
      });
      expect(stateOf(stored)).toBe("resolved");
      expect(stored.acknowledgedBy).toBe("U0ACK");
    } finally {
      other.disconnect();
    }
  });

  it("reopens back to the state before, once; a second reopen is told it is not resolved", async () => {
    await store.createMany([item(2, "reopen")], options);
    await store.claim(uuid(2), "escalated", "U0ESC", new Date("2026-12-02T10:01:00.000Z"));
    await store.resolveAlert(uuid(2), {
      verdict: "duplicate",
      note: "see the other alert",
      by: "U0ALICE",
      at: new Date("2026-12-02T10:05:00.000Z"),
    });
    expect(await store.reopenAlert(uuid(2))).toEqual({
      outcome: "reopened",
      was: { by: "U0ALICE", at: "2026-12-02T10:05:00.000Z", verdict: "duplicate" },
    });
    const stored = (await store.get(uuid(2)))!;
    expect(stored.resolution).toBeNull();
    expect(stateOf(stored)).toBe("escalated");
    const fields = await redis.hkeys(keys.alert(uuid(2)));
    expect(fields).not.toContain("resolutionNote");
    expect(fields).not.toContain("verdict");
    expect(await store.reopenAlert(uuid(2))).toEqual({ outcome: "not_resolved" });
    // Resolvable again after a reopen.
    const again = await store.resolveAlert(uuid(2), {
      verdict: "true_positive",
      note: null,
      by: "U0BOB",
      at: new Date("2026-12-02T10:09:00.000Z"),
    });
    expect(again).toEqual({ outcome: "resolved", at: "2026-12-02T10:09:00.000Z" });
  });

  it("answers missing for an alert that is not stored, and creates nothing", async () => {
    const ghost = uuid(999);
    const at = new Date();
    expect(await store.resolveAlert(ghost, { verdict: "duplicate", note: null, by: "U0A", at })).toEqual({
      outcome: "missing",
    });
    expect(await store.reopenAlert(ghost)).toEqual({ outcome: "missing" });
    expect(await redis.exists(keys.alert(ghost))).toBe(0);
  });

  it("starts a new group, linked to the resolved one, for an occurrence after resolution", async () => {
    expect(await store.createMany([item(10), item(11)], options)).toEqual([
      { kind: "leader" },
      { kind: "member", leader: uuid(10), occurrences: 2 },
    ]);
    await store.resolveAlert(uuid(10), {
      verdict: "expected_activity",
      note: null,
      by: "U0ALICE",
      at: new Date("2026-12-02T10:10:00.000Z"),
    });
    expect(await store.createMany([item(12), item(13)], options)).toEqual([
      { kind: "leader" },
      { kind: "member", leader: uuid(12), occurrences: 2 },
    ]);
    const fresh = (await store.get(uuid(12)))!;
    expect(fresh.previousOccurrence).toBe(uuid(10));
    expect(fresh.group).toBe(uuid(12));
    expect(stateOf(fresh)).toBe("new");
    // The resolved group keeps the count it had when it was resolved.
    expect((await store.group(uuid(10)))!.occurrences).toBe(2);
    // A group that was never resolved names no previous occurrence.
    expect((await store.get(uuid(10)))!.previousOccurrence).toBeNull();
  });
});
