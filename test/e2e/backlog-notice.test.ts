import { readFileSync } from "node:fs";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker } from "../../src/main/compose.js";
import { LocalSlack, type LocalMessage } from "../../src/preview/local-slack.js";
import { BacklogNotices } from "../../src/slack/backlog-notice.js";
import { createSlackClient } from "../../src/slack/client.js";
import { BacklogNoticeStore } from "../../src/store/backlog-notices.js";
import { CHANNEL, type Harness, startHarness } from "../../support/harness.js";
import { dropPrefix, TEST_REDIS_URL, uniquePrefix, waitFor } from "../../support/redis.js";

const log = pino({ level: "silent" });
const isNotice = (m: LocalMessage) => m.metadata === null;
const noticesIn = (slack: LocalSlack, channel: string) =>
  (slack.channels.get(channel)?.messages ?? []).filter(isNotice);

describe("a channel's backlog notice, against real Redis and the Slack stand-in", () => {
  const slack = new LocalSlack({ token: "xoxb-backlog" });
  const prefix = uniquePrefix("backlog");
  const connections: Redis[] = [];
  let clock = Date.parse("2025-06-01T10:00:00Z");
  /** One worker process's notices, on its own Redis connection, at a pace of 1 post/s, a minute's worth. */
  const process = () => {
    const redis = new Redis(TEST_REDIS_URL);
    connections.push(redis);
    return new BacklogNotices({
      client: createSlackClient(slack.token, slack.apiUrl, log),
      store: new BacklogNoticeStore(redis, prefix),
      postsPerSecond: 1,
      noticeSeconds: 60,
      log,
      now: () => new Date(clock),
    });
  };
  const store = () => new BacklogNoticeStore(connections[0]!, prefix);
  beforeAll(async () => {
    await slack.start();
  });
  afterAll(async () => {
    for (const c of connections) c.disconnect();
    await slack.stop();
    await dropPrefix(prefix);
  });

  it("is posted once more than a minute of posts waits, and once only by several processes", async () => {
    const [a, b, c] = [process(), process(), process()];
    await a.check("C0ONE", 60);
    expect(slack.callsOf("chat.postMessage")).toHaveLength(0);
    await Promise.all([a.check("C0ONE", 61), b.check("C0ONE", 61), c.check("C0ONE", 61)]);
    await Promise.all([a.check("C0ONE", 61), b.check("C0ONE", 61), c.check("C0ONE", 61)]);
    const notices = noticesIn(slack, "C0ONE");
    expect(notices).toHaveLength(1);
    expect(notices[0]!.text).toBe(
      "61 alerts are waiting to be posted in this channel; /falco recent lists them now",
    );
    expect(await store().messageTs("C0ONE")).toBe(notices[0]!.ts);
    expect(slack.callsOf("chat.update")).toHaveLength(0);
  });

  it("follows the count at most every 10 s, then is marked cleared, and a later backlog gets a new one", async () => {
    const a = process();
    const b = process();
    await a.check("C0TWO", 500);
    const [notice] = noticesIn(slack, "C0TWO");
    clock += 5_000;
    await b.check("C0TWO", 480);
    expect(notice!.edits).toBe(0);
    clock += 5_000;
    await b.check("C0TWO", 470);
    expect(notice!.edits).toBe(1);
    expect(notice!.text).toMatch(/^470 alerts are waiting/);
    clock += 30_000;
    await a.check("C0TWO", 470); // the same count: nothing to change
    expect(notice!.edits).toBe(1);
    await a.check("C0TWO", 11);
    expect(notice!.text).toMatch(/^11 alerts are waiting/);
    clock += 10_000;
    await b.check("C0TWO", 10); // a sixth of the minute's worth: cleared
    expect(notice!.edits).toBe(3);
    expect(notice!.text).toBe("Backlog cleared: alerts reach this channel without delay again");
    expect(JSON.stringify(notice!.blocks)).toContain("At the most, 500 alerts were waiting to be posted.");
    expect(await store().messageTs("C0TWO")).toBeNull();
    await a.check("C0TWO", 10);
    expect(notice!.edits).toBe(3);

    await a.check("C0TWO", 90);
    const notices = noticesIn(slack, "C0TWO");
    expect(notices).toHaveLength(2);
    expect(notices[1]!.text).toMatch(/^90 alerts are waiting/);
  });

  it("tries again at the next check after a 429, and starts afresh when its message was deleted", async () => {
    const a = process();
    slack.script("chat.postMessage", { status: 429, retryAfter: 1, channel: "C0THREE" });
    await a.check("C0THREE", 100);
    expect(slack.callsOf("chat.postMessage").filter((c) => c.args.channel === "C0THREE")).toHaveLength(1);
    expect(noticesIn(slack, "C0THREE")).toHaveLength(0);
    clock += 5_000;
    await a.check("C0THREE", 100);
    const [notice] = noticesIn(slack, "C0THREE");
    expect(notice!.text).toMatch(/^100 alerts are waiting/);

    clock += 10_000;
    slack.script("chat.update", { status: 429, retryAfter: 1, channel: "C0THREE" });
    await a.check("C0THREE", 95);
    expect(notice!.edits).toBe(0);
    clock += 5_000; // not 10 s after the refused update: the refusal did not count as shown
    await a.check("C0THREE", 95);
    expect(notice!.edits).toBe(1);

    clock += 10_000;
    slack.script("chat.update", { error: "message_not_found", channel: "C0THREE" });
    await a.check("C0THREE", 90);
    expect(await store().messageTs("C0THREE")).toBeNull();
    await a.check("C0THREE", 90);
    expect(noticesIn(slack, "C0THREE")).toHaveLength(2);
  });
});

describe("a storm of Notice alerts into a channel paced at 1 post/s, with two worker processes", () => {
  let h: Harness;
  const shell = JSON.parse(
    readFileSync(new URL("../../examples/terminal-shell.json", import.meta.url), "utf8"),
  ) as Record<string, unknown>;
  beforeAll(async () => {
    // Five seconds' worth (five posts) waiting is a backlog here, so that the test is short.
    h = await startHarness("backlog-storm", {
      env: { SLACK_MAX_POSTS_PER_SECOND: "1", BACKLOG_NOTICE_SECONDS: "5" },
    });
    h.slack!.perChannelLimit = true;
  });
  afterAll(async () => {
    await h.stop();
  });

  it("says so in one message while the alerts wait, and marks it cleared once they are posted", async () => {
    const second = await startWorker({ config: h.config, redisUrl: TEST_REDIS_URL, kb: h.kb, log });
    try {
      expect(second.backlog).not.toBeNull();
      const total = 14;
      const uuid = (i: number) => `ba0c1000-0000-4000-8000-${String(i).padStart(12, "0")}`;
      const body = Array.from({ length: total }, (_, i) =>
        JSON.stringify({ ...shell, uuid: uuid(i), hostname: `backlog-node-${i}` }),
      ).join("\n");
      expect((await h.postAlerts(body, { "content-type": "application/x-ndjson" })).status).toBe(202);

      const messages = () => h.slack!.channels.get(CHANNEL)?.messages ?? [];
      const alertPosts = () => messages().filter((m) => !isNotice(m)).length;
      // Both processes check at once (a check of their timers may be under way too): one of them
      // posts the notice, by itself, not queued behind the alerts it announces.
      await Promise.all([h.worker!.backlog!.checkNow(), second.backlog!.checkNow()]);
      await waitFor(() => messages().some(isNotice), "the backlog notice", 5_000);
      expect(alertPosts()).toBeLessThan(total - 5);
      expect(messages().find(isNotice)!.text).toMatch(/^\d+ alerts are waiting to be posted in this channel/);

      await waitFor(
        () => messages().find(isNotice)?.text.startsWith("Backlog cleared"),
        "the notice marked cleared",
        40_000,
      );
      expect(alertPosts()).toBe(total);
      expect(messages().filter(isNotice)).toHaveLength(1);
      const posted = messages()
        .filter((m) => !isNotice(m))
        .map((m) => (m.metadata as { event_payload: { uuid: string } }).event_payload.uuid);
      expect(posted.sort()).toEqual(Array.from({ length: total }, (_, i) => uuid(i)));
    } finally {
      await second.close();
    }
  }, 60_000);
});
