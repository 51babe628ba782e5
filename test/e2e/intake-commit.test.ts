import { readFileSync } from "node:fs";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAlertBody } from "../../src/falco/body.js";
import type { FalcoAlert } from "../../src/falco/alert.js";
import { EAGER_COMMIT_ALERTS, type Intake, IntakeCommitter } from "../../src/ingest/accept.js";
import { DeliveryQueues } from "../../src/queue/producer.js";
import { DEFAULT_GROUP_FIELDS } from "../../src/route/grouping.js";
import { AlertStore, CREATE_BATCH } from "../../src/store/alert-store.js";
import { TEST_REDIS_URL, dropPrefix, uniquePrefix } from "../../support/redis.js";

const shell = JSON.parse(
  readFileSync(new URL("../../examples/terminal-shell.json", import.meta.url), "utf8"),
) as Record<string, unknown>;

function alert(uuid: string, hostname = `host-${uuid.slice(-4)}`): FalcoAlert {
  const parsed = parseAlertBody(JSON.stringify({ ...shell, uuid, hostname }), "json");
  if (!parsed.ok) throw new Error("example alert does not parse");
  return parsed.alerts[0]!;
}
const uuid = (i: number) => `0000abab-0000-4000-8000-${String(i).padStart(12, "0")}`;

describe("group commit of small requests (IntakeCommitter) against real Redis", () => {
  const prefix = uniquePrefix("commit");
  let redis: Redis;
  let intake: Intake;
  let calls: number[];

  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
    const store = new AlertStore(redis, prefix);
    calls = [];
    // The real store, counting how many script calls' worth of alerts each createMany carries.
    const createMany = store.createMany.bind(store);
    store.createMany = (items, options) => {
      calls.push(items.length);
      return createMany(items, options);
    };
    intake = {
      store,
      queues: new DeliveryQueues(redis, prefix, 3000),
      routing: { defaultChannel: "C0COMMIT", routes: [], minPriority: "Debug" },
      grouping: {
        fields: DEFAULT_GROUP_FIELDS,
        groupWindowSeconds: 600,
        dedupeWindowSeconds: 600,
        retentionSeconds: 3600,
      },
    };
  });
  afterAll(async () => {
    await intake.queues.close();
    redis.disconnect();
    await dropPrefix(prefix);
  });

  it("stores the requests of one turn with one call, and answers each for its own alerts", async () => {
    const received = new Date("2026-12-02T10:00:00Z");
    // Alone, a request is committed at the end of its turn, by itself.
    expect(await new IntakeCommitter(intake).accept([alert(uuid(1))], received)).toEqual({
      duplicates: [],
      health: [],
    });
    expect(calls).toEqual([1]);

    calls.length = 0;
    const committer = new IntakeCommitter(intake);
    const requests = [
      [alert(uuid(2))],
      [alert(uuid(3)), alert(uuid(4))],
      [alert(uuid(2))], // the first request's alert again, in the same turn
      [alert(uuid(1))], // stored by an earlier commit
    ];
    const results = await Promise.all(requests.map((alerts) => committer.accept(alerts, received)));
    expect(calls).toEqual([5]);
    expect(results).toEqual([
      { duplicates: [], health: [] },
      { duplicates: [], health: [] },
      { duplicates: [uuid(2)], health: [] },
      { duplicates: [uuid(1)], health: [] },
    ]);
    for (const i of [1, 2, 3, 4]) expect(await intake.store.get(uuid(i))).not.toBeNull();
    const queue = intake.queues.queue("C0COMMIT");
    expect((await queue.getJobs(["prioritized", "waiting"])).map((j) => j.id).sort()).toEqual(
      [1, 2, 3, 4].map(uuid),
    );
  });

  it("sends a commit as soon as it holds EAGER_COMMIT_ALERTS alerts, the rest at the end of the turn", async () => {
    expect(EAGER_COMMIT_ALERTS).toBe(8);
    const committer = new IntakeCommitter(intake);
    calls.length = 0;
    const received = new Date();
    // 3 + 3 + 3 alerts reach 8 with the third request, which goes in whole: no request is split.
    const threes = [0, 1, 2, 3].map((r) => [0, 1, 2].map((i) => alert(uuid(6000 + r * 10 + i))));
    const singles = [alert(uuid(6100))];
    const results = await Promise.all([...threes, singles].map((a) => committer.accept(a, received)));
    expect(calls).toEqual([9, 4]);
    expect(results.every((r) => r.duplicates.length === 0)).toBe(true);
    for (const a of [...threes.flat(), ...singles]) expect(await intake.store.get(a.uuid)).not.toBeNull();
  });

  it("sends a request of 250 alerts or more on its own, and fills a commit at 250", async () => {
    // Eager sending off (a commit sent only when full or at the end of the turn), to see the limit.
    const committer = new IntakeCommitter(intake, CREATE_BATCH);
    calls.length = 0;
    const received = new Date();
    const big = Array.from({ length: 300 }, (_, i) => alert(uuid(1000 + i)));
    const small = Array.from({ length: 260 }, (_, i) => [alert(uuid(2000 + i))]);
    await Promise.all([committer.accept(big, received), ...small.map((a) => committer.accept(a, received))]);
    expect(calls).toEqual([300, 250, 10]);
  });

  it("commits what is pending before a request would take a commit past one script call", async () => {
    const committer = new IntakeCommitter(intake, CREATE_BATCH);
    calls.length = 0;
    const received = new Date();
    const a = Array.from({ length: 200 }, (_, i) => alert(uuid(4000 + i)));
    const b = Array.from({ length: 100 }, (_, i) => alert(uuid(5000 + i)));
    await Promise.all([committer.accept(a, received), committer.accept(b, received)]);
    expect(calls).toEqual([200, 100]);
  });

  it("sends a group's update job once per slot, not once per alert of the storm", async () => {
    const queues = new DeliveryQueues(redis, prefix, 3000);
    const queue = queues.queue("C0UPDATES");
    const added: string[] = [];
    const add = queue.add.bind(queue);
    queue.add = (name, data, opts) => {
      added.push(opts!.jobId!);
      return add(name, data, opts);
    };
    const slot = 1_000_000;
    const at = slot * 3000 + 100;
    for (let i = 0; i < 5; i++)
      await queues.enqueueUpdates(
        [{ channel: "C0UPDATES", leader: uuid(1), priority: "Notice" }],
        at + i * 10,
      );
    await queues.enqueueUpdates([{ channel: "C0UPDATES", leader: uuid(1), priority: "Notice" }], at + 3000);
    expect(added).toEqual([`update-${uuid(1)}-${slot}`, `update-${uuid(1)}-${slot + 1}`]);
    expect((await queue.getJobs(["delayed"])).map((j) => j.id).sort()).toEqual(added.sort());
    await queues.close();
  });

  it("fails every request of a commit when the store fails, and keeps none of them", async () => {
    const broken = new Redis(TEST_REDIS_URL, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    });
    broken.on("error", () => {}); // the rejected calls are what this test looks at
    const committer = new IntakeCommitter({ ...intake, store: new AlertStore(broken, prefix) });
    const results = await Promise.allSettled([
      committer.accept([alert(uuid(3001))], new Date()),
      committer.accept([alert(uuid(3002))], new Date()),
    ]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    for (const i of [3001, 3002]) expect(await intake.store.get(uuid(i))).toBeNull();
    broken.disconnect();
  });
});
