import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACTIONS } from "../../blocks/alert-message.js";
import { UPDATE_JOB } from "../../src/queue/names.js";
import { CHANNEL, type Harness, startHarness } from "../../support/harness.js";
import { waitFor } from "../../support/redis.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- assertions walk arbitrary JSON
type AlertJson = Record<string, any>;
const allText = (x: unknown) => JSON.stringify(x);
const OTHER_CHANNEL = "C0KUBEAUDIT";

/** A Falco alert of one rule on one host and container; `i` varies its time, command line and uuid. */
function shellAlert(i: number, extra: Record<string, unknown> = {}) {
  const nanos = String(100_000_000 + i).padStart(9, "0");
  return {
    uuid: `6a0c0000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    rule: "Terminal shell in container",
    priority: "Notice",
    source: "syscall",
    hostname: "node-storm-1",
    time: `2025-06-01T10:00:00.${nanos}Z`,
    output: `10:00:00.${nanos}: Notice A shell was spawned in a container with an attached terminal (cmd=bash -c step-${i % 7})`,
    output_fields: {
      "container.id": "abcdef123456",
      "container.name": "web",
      "k8s.ns.name": "shop",
      "k8s.pod.name": "web-1",
      "proc.cmdline": `bash -c step-${i % 7}`,
      "proc.name": "bash",
      "user.name": "root",
    },
    tags: ["container", "shell", "T1059"],
    ...extra,
  };
}

/** The sum of a metric's series in a Prometheus text exposition, over those carrying `labels`. */
function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m?.[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? "").split(",").includes(`${k}="${v}"`)))
      sum += Number(m[3]);
  }
  return sum;
}

describe("storms, copies, routing and pacing", () => {
  let h: Harness;
  let dir: string;
  const get = async (uuid: string) => (await (await h.getAlert(uuid)).json()) as AlertJson;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "routes-"));
    const routes = join(dir, "routes.yaml");
    writeFileSync(
      routes,
      [
        "routes:",
        "  - name: audit",
        "    when: { source: k8s_audit }",
        `    channel: ${OTHER_CHANNEL}`,
        "",
      ].join("\n"),
    );
    h = await startHarness("grouping", {
      env: {
        GROUP_WINDOW_SECONDS: "600",
        DEDUPE_WINDOW_SECONDS: "600",
        GROUP_UPDATE_SECONDS: "1",
        ROUTES_FILE: routes,
        MIN_PRIORITY: "notice",
      },
    });
  });
  afterAll(async () => {
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("turns a storm of 300 alerts into one message whose counter reaches 300", async () => {
    const alerts = Array.from({ length: 300 }, (_, i) => shellAlert(i));
    for (let i = 0; i < alerts.length; i += 50) {
      const res = await h.postAlerts(
        alerts
          .slice(i, i + 50)
          .map((a) => JSON.stringify(a))
          .join("\n"),
        {
          "content-type": "application/x-ndjson",
        },
      );
      expect(res.status).toBe(202);
    }
    const leader = alerts[0]!.uuid;
    await waitFor(async () => (await get(leader)).slack, "the group's message");
    const updated = await waitFor(
      () => h.slack!.callsOf("chat.update").find((c) => allText(c.args.blocks).includes("300 occurrences")),
      "the message updated to 300 occurrences",
      15_000,
    );
    expect(allText(updated.args.blocks)).toContain("bash -c step-");
    const posts = h
      .slack!.callsOf("chat.postMessage")
      .filter((c) => allText(c.args.blocks).includes("node-storm-1"));
    expect(posts).toHaveLength(1);

    const member = await get(alerts[299]!.uuid);
    expect(member.group).toMatchObject({ occurrences: 300, first: leader });
    expect(member.group.key).toContain("rule=Terminal shell in container");
    expect(member.slack).toEqual((await get(leader)).slack);
    expect(member.delivery.status).toBe("grouped");
  });

  it("keeps the group's acknowledgement when new occurrences arrive, and shows the new count", async () => {
    const first = shellAlert(1000, { hostname: "node-ack-1" });
    expect((await h.postAlerts(JSON.stringify(first))).status).toBe(202);
    const { ts } = await waitFor(
      async () => (await get(first.uuid)).slack as { ts: string } | null,
      "posted",
    );
    await h.click(ACTIONS.acknowledge, first.uuid, "U0ACK", ts);
    await waitFor(async () => (await get(first.uuid)).state === "acknowledged", "acknowledged");

    const later = shellAlert(1001, { hostname: "node-ack-1" });
    expect((await h.postAlerts(JSON.stringify(later))).status).toBe(202);
    const update = await waitFor(
      () =>
        h
          .slack!.callsOf("chat.update")
          .find((c) => c.args.ts === ts && allText(c.args.blocks).includes("2 occurrences")),
      "the count updated",
    );
    expect(allText(update.args.blocks)).toContain("Acknowledged by <@U0ACK>");
    expect((await get(later.uuid)).state).toBe("acknowledged");
  });

  it("posts the group anew when its message is gone from Slack, so later occurrences still show", async () => {
    const first = shellAlert(5000, { hostname: "node-deleted-1" });
    expect((await h.postAlerts(JSON.stringify(first))).status).toBe(202);
    const { ts } = await waitFor(
      async () => (await get(first.uuid)).slack as { ts: string } | null,
      "posted",
    );
    // Someone deletes the message in Slack: the next update of it answers message_not_found.
    h.slack!.script("chat.update", { error: "message_not_found" });
    const later = shellAlert(5001, { hostname: "node-deleted-1" });
    expect((await h.postAlerts(JSON.stringify(later))).status).toBe(202);
    const again = await waitFor(async () => {
      const slack = (await get(first.uuid)).slack as { ts: string } | null;
      return slack && slack.ts !== ts ? slack : null;
    }, "a new message for the group");
    const post = h
      .slack!.callsOf("chat.postMessage")
      .find(
        (c) =>
          allText(c.args.blocks).includes("node-deleted-1") &&
          allText(c.args.blocks).includes("2 occurrences"),
      );
    expect(post).toBeDefined();
    expect((await get(later.uuid)).slack).toEqual(again);
  });

  it("counts a post that fell back to a reduced message, and catches its group up, like any other", async () => {
    const metrics = async () => {
      const text = await (await fetch(`${h.base}/metrics`)).text();
      return {
        refused: metricSum(text, "falco_chatops_slack_calls_total", {
          method: "chat.postMessage",
          outcome: "invalid_blocks",
        }),
        posted: metricSum(text, "falco_chatops_slack_calls_total", {
          method: "chat.postMessage",
          outcome: "ok",
        }),
        firstMessages: metricSum(text, "falco_chatops_alert_to_slack_seconds_count"),
        enriched: metricSum(text, "falco_chatops_enrichment_matches_total"),
      };
    };
    const before = await metrics();
    // Slack answers the first post invalid_blocks, but only after two more of its group arrived and
    // their update found no message yet to update: only the post's own catch-up can show them.
    let answer!: () => void;
    h.slack!.script("chat.postMessage", {
      error: "invalid_blocks",
      holdUntil: new Promise<void>((resolve) => (answer = resolve)),
    });
    const first = shellAlert(6000, { hostname: "node-reduced-1" });
    const later = [
      shellAlert(6001, { hostname: "node-reduced-1" }),
      shellAlert(6002, { hostname: "node-reduced-1" }),
    ];
    const updateRan = new Promise<void>((resolve) => {
      for (const worker of h.worker!.workers)
        worker.on("completed", (job) => {
          if (job.name === UPDATE_JOB && job.data.uuid === first.uuid) resolve();
        });
    });
    expect((await h.postAlerts(JSON.stringify(first))).status).toBe(202);
    await waitFor(
      () =>
        h.slack!.callsOf("chat.postMessage").some((c) => allText(c.args.blocks).includes("node-reduced-1")),
      "the first post on its way",
    );
    expect((await h.postAlerts(later.map((a) => JSON.stringify(a)).join("\n"))).status).toBe(202);
    expect((await get(first.uuid)).group.occurrences).toBe(3);
    await updateRan;
    expect((await get(first.uuid)).slack).toBeNull();
    answer();

    const { ts } = await waitFor(
      async () => (await get(first.uuid)).slack as { ts: string } | null,
      "the reduced post",
    );
    const posts = h
      .slack!.callsOf("chat.postMessage")
      .filter((c) => allText(c.args.blocks).includes(first.uuid));
    expect(posts).toHaveLength(2);
    expect((posts[1]!.args.blocks as { type: string }[]).map((b) => b.type)).toEqual(["header", "actions"]);
    const update = await waitFor(
      () =>
        h
          .slack!.callsOf("chat.update")
          .find((c) => c.args.ts === ts && allText(c.args.blocks).includes("3 occurrences")),
      "the group's message caught up to 3 occurrences",
    );
    expect(allText(update.args.blocks)).toContain("node-reduced-1");
    expect(await metrics()).toEqual({
      refused: before.refused + 1,
      posted: before.posted + 1,
      firstMessages: before.firstMessages + 1,
      enriched: before.enriched + 1,
    });
  });

  it("counts a re-sent copy (same content, new uuid) once, and answers for it", async () => {
    const original = shellAlert(2000, { hostname: "node-copy-1" });
    const copy = { ...original, uuid: "6a0c0000-0000-4000-8000-00000000c0b1" };
    expect((await h.postAlerts(JSON.stringify(original))).status).toBe(202);
    const res = await h.postAlerts(JSON.stringify(copy));
    expect(((await res.json()) as { duplicates: string[] }).duplicates).toEqual([copy.uuid]);
    const answered = await get(copy.uuid);
    expect(answered.uuid).toBe(original.uuid);
    expect(answered.group.occurrences).toBe(1);
    // Every route and command that takes a uuid answers the copy's as the original's.
    const report = await fetch(`${h.base}/alerts/${copy.uuid}/report`);
    expect(report.status).toBe(200);
    expect(await report.text()).toContain(original.uuid);
    const lookup = await h.command(copy.uuid);
    const answer = await waitFor(
      () => h.slack!.responses.find((r) => r.url === lookup.responseUrl),
      "the /falco answer for the copy",
    );
    expect(JSON.stringify(answer.body.blocks)).toContain(original.uuid);
  });

  it("routes by rule file to another channel, and stores but does not post alerts below MIN_PRIORITY", async () => {
    const audit = {
      uuid: "6a0c0000-0000-4000-8000-0000000a0d17",
      rule: "Attach/Exec Pod",
      priority: "Notice",
      source: "k8s_audit",
      hostname: "falco-audit-0",
      time: "2025-06-01T10:00:01.000000000Z",
      output: "Attach/Exec to pod (user=alice pod=web-1 ns=shop action=exec command=sh)",
      output_fields: { "ka.user.name": "alice", "ka.target.name": "web-1", "ka.target.namespace": "shop" },
      tags: ["k8s"],
    };
    const quiet = shellAlert(3000, { hostname: "node-quiet-1", priority: "Informational" });
    expect((await h.postAlerts(JSON.stringify([audit, quiet]))).status).toBe(202);
    const posted = await waitFor(
      async () => (await get(audit.uuid)).slack as { channel: string } | null,
      "posted",
    );
    expect(posted.channel).toBe(OTHER_CHANNEL);
    expect((await get(audit.uuid)).channel).toBe(OTHER_CHANNEL);

    const stored = await get(quiet.uuid);
    expect(stored.delivery).toMatchObject({ status: "not_posted" });
    expect(stored.delivery.error).toMatch(/MIN_PRIORITY/);
    expect(
      h.slack!.callsOf("chat.postMessage").some((c) => allText(c.args.blocks).includes("node-quiet-1")),
    ).toBe(false);
  });

  it("waits out a 429 in one channel without holding up another", async () => {
    h.slack!.script("chat.postMessage", { status: 429, retryAfter: 3, channel: CHANNEL });
    const slow = shellAlert(4000, { hostname: "node-429-1" });
    const audit = {
      uuid: "6a0c0000-0000-4000-8000-0000000a0d18",
      rule: "Attach/Exec Pod",
      priority: "Notice",
      source: "k8s_audit",
      hostname: "falco-audit-1",
      time: "2025-06-01T10:00:02.000000000Z",
      output: "Attach/Exec to pod (user=bob pod=web-2 ns=shop action=exec command=sh)",
      output_fields: { "ka.user.name": "bob", "ka.target.name": "web-2", "ka.target.namespace": "shop" },
      tags: ["k8s"],
    };
    const sentAt = Date.now();
    expect((await h.postAlerts(JSON.stringify(slow))).status).toBe(202);
    await waitFor(
      () => h.slack!.callsOf("chat.postMessage").some((c) => allText(c.args.blocks).includes("node-429-1")),
      "the rate-limited attempt",
    );
    expect((await h.postAlerts(JSON.stringify(audit))).status).toBe(202);
    await waitFor(async () => (await get(audit.uuid)).slack, "the other channel's post");
    const otherPostedAfter = Date.now() - sentAt;
    expect(otherPostedAfter).toBeLessThan(2500); // did not wait for the first channel's Retry-After
    await waitFor(
      async () => (await get(slow.uuid)).slack,
      "the rate-limited post, after Retry-After",
      10_000,
    );
    const attempts = h
      .slack!.callsOf("chat.postMessage")
      .filter((c) => allText(c.args.blocks).includes("node-429-1"));
    expect(attempts).toHaveLength(2);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(2900);
  });
});
