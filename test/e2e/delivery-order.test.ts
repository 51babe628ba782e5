import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHANNEL, type Harness, startHarness } from "../../support/harness.js";
import { waitFor } from "../../support/redis.js";

const shell = JSON.parse(
  readFileSync(new URL("../../examples/terminal-shell.json", import.meta.url), "utf8"),
) as Record<string, unknown>;
const memfd = JSON.parse(
  readFileSync(new URL("../../examples/memfd-create.json", import.meta.url), "utf8"),
) as Record<string, unknown>;

const noticeUuid = (i: number) => `0e0d0000-0000-4000-8000-${String(i).padStart(12, "0")}`;
const CRITICAL_UUID = "c0c0c0c0-0000-4000-8000-000000000001";

/** The uuid each message of the channel was posted for, in the order Slack accepted them. */
function postedOrder(h: Harness): string[] {
  return (h.slack!.channels.get(CHANNEL)?.messages ?? []).map(
    (m) => (m.metadata as { event_payload?: { uuid?: string } } | null)?.event_payload?.uuid ?? "",
  );
}

describe("a Critical alert during a storm of Notice alerts, one message per second per channel", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("order", {
      env: { SLACK_MAX_POSTS_PER_SECOND: "1", WORKER_CONCURRENCY: "8" },
    });
    h.slack!.perChannelLimit = true;
  });
  afterAll(async () => {
    await h.stop();
  });

  it("is among the first two posts after it was accepted, ahead of the Notice alerts waiting", async () => {
    const notices = 8;
    const body = Array.from({ length: notices }, (_, i) =>
      JSON.stringify({ ...shell, uuid: noticeUuid(i), hostname: `storm-node-${i}` }),
    ).join("\n");
    const stormed = await h.postAlerts(body, { "content-type": "application/x-ndjson" });
    expect(stormed.status).toBe(202);
    // The storm is under way: the channel's pace keeps the other Notice alerts waiting.
    await waitFor(() => postedOrder(h).length >= 1, "the first Notice post");

    const postedBefore = postedOrder(h).length;
    const res = await h.postAlerts(JSON.stringify({ ...memfd, uuid: CRITICAL_UUID }));
    expect(res.status).toBe(202);
    await waitFor(() => postedOrder(h).includes(CRITICAL_UUID), "the Critical alert's post");

    const order = postedOrder(h);
    const position = order.indexOf(CRITICAL_UUID) - postedBefore;
    // One Notice post may already have been on its way when the Critical one was queued.
    expect(position).toBeGreaterThanOrEqual(0);
    expect(position).toBeLessThanOrEqual(1);

    // Every alert still reaches Slack once, the Notice alerts that waited after the Critical one.
    await waitFor(() => postedOrder(h).length === notices + 1, "every post", 20_000);
    const final = postedOrder(h);
    expect([...final].sort()).toEqual(
      [...Array.from({ length: notices }, (_, i) => noticeUuid(i)), CRITICAL_UUID].sort(),
    );
    expect(final.slice(final.indexOf(CRITICAL_UUID) + 1).length).toBeGreaterThanOrEqual(notices - 3);
  }, 40_000);
});
