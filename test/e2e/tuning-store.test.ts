import { readFileSync } from "node:fs";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import type { FalcoAlert } from "../../src/falco/alert.js";
import { parseAlertBody } from "../../src/falco/body.js";
import { AlertStore, type CreateOptions, type NewAlert } from "../../src/store/alert-store.js";
import { StoreKeys } from "../../src/store/keys.js";
import { REPLAY_CHUNK, type StoredException, TuningStore } from "../../src/store/tuning-store.js";
import { TUNING_REFRESH_MS, TuningHold } from "../../src/tuning/hold.js";
import { replayException } from "../../src/tuning/replay.js";
import { TEST_REDIS_URL, dropPrefix, uniquePrefix, waitFor } from "../../support/redis.js";

/*
 * The tuning store on real Redis: the per-rule index createAlerts.lua keeps (and trims with the
 * retention), the replay's paging over it, saved exceptions, and the hold every web process keeps in
 * step with them.
 */

const shell = JSON.parse(
  readFileSync(new URL("../../examples/terminal-shell.json", import.meta.url), "utf8"),
) as Record<string, unknown>;

function alert(
  uuid: string,
  rule = "Terminal shell in container",
  image = "registry.example.com/shop/web",
): FalcoAlert {
  const base = shell as { output_fields: Record<string, unknown> };
  const parsed = parseAlertBody(
    JSON.stringify({
      ...shell,
      uuid,
      rule,
      output_fields: { ...base.output_fields, "container.image.repository": image },
    }),
    "json",
  );
  if (!parsed.ok) throw new Error("example alert does not parse");
  return parsed.alerts[0]!;
}
const uuid = (i: number) => `7c7c0000-0000-4000-8000-${String(i).padStart(12, "0")}`;
const options: CreateOptions = { groupWindowSeconds: 0, dedupeWindowSeconds: 0, retentionSeconds: 3600 };
const received = new Date("2026-12-02T10:00:00.000Z");

function item(a: FalcoAlert, receivedAt = received): NewAlert {
  return {
    alert: a,
    channel: "C0TUNE",
    post: true,
    groupKey: a.uuid,
    sample: a.uuid,
    contentKey: a.uuid,
    receivedAt,
  };
}

const exception = (over: Partial<StoredException> = {}): StoredException => ({
  id: "t000000000001",
  rule: "Terminal shell in container",
  name: "web_shells",
  fields: ["container.image.repository"],
  comps: ["="],
  values: ["registry.example.com/shop/web"],
  alertUuid: uuid(1),
  createdBy: "U0ALICE",
  createdAt: "2026-12-02T10:00:00.000Z",
  ...over,
});

describe("the tuning store", () => {
  const prefix = uniquePrefix("tuning-store");
  const redis = new Redis(TEST_REDIS_URL);
  const store = new AlertStore(redis, prefix);
  const tuning = new TuningStore(redis, prefix);
  const keys = new StoreKeys(prefix);
  afterAll(async () => {
    await dropPrefix(prefix);
    redis.disconnect();
  });

  async function collect(rule: string, since = 0): Promise<string[]> {
    const out: string[] = [];
    for await (const chunk of tuning.ruleAlerts(rule, since)) out.push(...chunk.map((a) => a.uuid));
    return out;
  }

  it("indexes each stored alert under its rule, and reads a rule's alerts in pages, each once", async () => {
    // More than a page, all with the same arrival time (one request's batch): the paging must not
    // lose or repeat the alerts that share the last score of a page.
    const many = Array.from({ length: REPLAY_CHUNK + 37 }, (_, i) => alert(uuid(i)));
    await store.createMany(
      many.map((a) => item(a)),
      options,
    );
    await store.createMany([item(alert(uuid(9000), "Other rule"))], options);
    const read = await collect("Terminal shell in container");
    expect(read).toHaveLength(many.length);
    expect(new Set(read)).toEqual(new Set(many.map((a) => a.uuid)));
    expect(await collect("Other rule")).toEqual([uuid(9000)]);
    expect(await collect("No such rule")).toEqual([]);
    const ttl = await redis.ttl(keys.ruleAlerts("Terminal shell in container"));
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);
  });

  it("drops entries past the retention from a rule's index when the rule's next alert is stored", async () => {
    const key = keys.ruleAlerts("Trimmed rule");
    await redis.zadd(key, received.getTime() - 7_200_000, "gone-uuid");
    await store.createMany([item(alert(uuid(9100), "Trimmed rule"))], options);
    expect(await redis.zrange(key, 0, -1)).toEqual([uuid(9100)]);
  });

  it("replays an exception over the rule's alerts read from the index", async () => {
    await store.createMany(
      [0, 1, 2].map((i) =>
        item(alert(uuid(9200 + i), "Replayed rule", i === 2 ? "other/image" : "shop/web")),
      ),
      options,
    );
    const result = await replayException(
      { rule: "Replayed rule", fields: ["container.image.repository"], comps: ["="], values: ["shop/web"] },
      tuning.ruleAlerts("Replayed rule", 0),
    );
    expect(result).toMatchObject({ replayed: 3, hidden: 2, passed: 1 });
    expect(result.examples.map((e) => e.uuid).sort()).toEqual([uuid(9200), uuid(9201)]);
  });

  it("saves and withdraws exceptions, counting each change", async () => {
    const v0 = await tuning.version();
    await tuning.save(exception());
    expect(await tuning.list()).toEqual([exception()]);
    expect(await tuning.version()).not.toBe(v0);
    const v1 = await tuning.version();
    expect(await tuning.withdraw("t000000000001")).toEqual(exception());
    expect(await tuning.withdraw("t000000000001")).toBeNull();
    expect(await tuning.list()).toEqual([]);
    expect(Number(await tuning.version())).toBe(Number(v1) + 1);
  });

  it("holds matching alerts in another process once it notices the change, and lets them go on withdrawal", async () => {
    const other = new Redis(TEST_REDIS_URL);
    const hold = new TuningHold(new TuningStore(other, prefix), pino({ level: "silent" }));
    await hold.start();
    try {
      const web = alert(uuid(9300));
      const elsewhere = alert(uuid(9301), "Terminal shell in container", "other/image");
      expect(hold.holdFor(web)).toBeNull();
      await tuning.save(exception({ id: "t000000000002" }));
      const held = await waitFor(() => hold.holdFor(web), "the other process's hold", TUNING_REFRESH_MS * 5);
      expect(held).toEqual({ status: "tuned", by: "t000000000002" });
      expect(hold.holdFor(elsewhere)).toBeNull();
      expect(hold.holdFor(alert(uuid(9302), "Another rule"))).toBeNull();
      await tuning.withdraw("t000000000002");
      await waitFor(() => hold.holdFor(web) === null, "the hold to end", TUNING_REFRESH_MS * 5);
    } finally {
      hold.stop();
      other.disconnect();
    }
  });
});
