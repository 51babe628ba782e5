import { readFileSync } from "node:fs";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { limitProblems } from "../../blocks/limits.js";
import { startWorker, type WorkerProcess } from "../../src/main/compose.js";
import type { LocalMessage } from "../../src/preview/local-slack.js";
import { CHANNEL, type Harness, startHarness } from "../../support/harness.js";
import { TEST_REDIS_URL, waitFor } from "../../support/redis.js";

const TOKEN = "health-test-token-0123456789";
const auth = { authorization: `Bearer ${TOKEN}` };
const json = { ...auth, "content-type": "application/json" };
const HEALTH_CHANNEL = "C0HEALTH";

const shell = JSON.parse(
  readFileSync(new URL("../../examples/terminal-shell.json", import.meta.url), "utf8"),
) as Record<string, unknown>;

// Shaped as Falco writes them (stats_writer.cpp, event_drops.cpp, process_events.cpp): the metrics
// snapshot with `source: internal`, drop counts as strings, the timeouts notification's one field.
function metricsSnapshot(host: string): Record<string, unknown> {
  return {
    hostname: host,
    output: "Falco metrics snapshot",
    output_fields: {
      "evt.hostname": host,
      "evt.source": "syscall",
      "falco.evts_rate_sec": 1846.4,
      "falco.kernel_release": "6.14.6-300.fc42.x86_64",
      "falco.sha256_rules_file.falco_rules_yaml":
        "58a4f187b6b04b43ae938132325cbbb6b2bb9eb4e76e553f5b4b7b5b360ee0b4",
      "falco.version": "0.41.0",
      "scap.engine_name": "modern_bpf",
      "scap.n_drops": 120,
      "scap.n_drops_prev": 100,
      "scap.n_drops_perc": 0.5,
    },
    priority: "Informational",
    rule: "Falco internal: metrics snapshot",
    source: "internal",
    time: new Date().toISOString(),
  };
}

let tick = 0;
/** A distinct Falco time per alert (Falco's nanoseconds), as each real one has. */
const falcoTime = () => new Date(Date.now() + ++tick).toISOString().replace("Z", "123456Z");

function dropAlert(host: string | null, drops: number): Record<string, unknown> {
  return {
    ...(host === null ? {} : { hostname: host }),
    output: `Falco internal: syscall event drop. ${drops} system calls dropped in last second.`,
    output_fields: {
      ebpf_enabled: "1",
      n_drops: String(drops),
      n_drops_buffer_total: String(drops),
      n_drops_bug: "0",
      n_drops_page_faults: "0",
      n_evts: "13973",
    },
    priority: "Debug",
    rule: "Falco internal: syscall event drop",
    source: "internal",
    time: falcoTime(),
  };
}

function timeoutsNotification(host: string): Record<string, unknown> {
  return {
    hostname: host,
    output: "Falco internal: timeouts notification. 1000 consecutive timeouts without event.",
    output_fields: { last_event_time: "13:22:12.609379000" },
    priority: "Debug",
    rule: "Falco internal: timeouts notification",
    source: "internal",
    time: falcoTime(),
  };
}

let serial = 0;
function shellAlert(host: string): { uuid: string; body: string } {
  const uuid = `4ea17400-0000-4000-8000-${String(++serial).padStart(12, "0")}`;
  return { uuid, body: JSON.stringify({ ...shell, uuid, hostname: host, time: falcoTime() }) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- assertions walk arbitrary JSON
type Json = Record<string, any>;
const allText = (x: unknown) => JSON.stringify(x);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Falco's own health, end to end", () => {
  let h: Harness;
  let second: WorkerProcess;
  beforeAll(async () => {
    h = await startHarness("falco-health", {
      env: {
        INGEST_TOKEN: TOKEN,
        HEARTBEAT_MISSING_SECONDS: "2",
        SLACK_HEALTH_CHANNEL: HEALTH_CHANNEL,
        GROUP_UPDATE_SECONDS: "1",
      },
    });
    // A second worker process on the same Redis: the heartbeat check must still post once per outage.
    second = await startWorker({
      config: h.config,
      redisUrl: TEST_REDIS_URL,
      kb: h.kb,
      log: pino({ level: "silent" }),
    });
  });
  afterAll(async () => {
    await second.close();
    await h.stop();
  });

  const post = async (body: unknown) => {
    const res = await h.postAlerts(typeof body === "string" ? body : JSON.stringify(body), json);
    expect(res.status).toBe(202);
    return (await res.json()) as { accepted: number; uuids: string[]; health: string[] };
  };
  const messages = (channel: string): LocalMessage[] => h.slack!.channels.get(channel)?.messages ?? [];
  const about = (channel: string, text: string) => messages(channel).filter((m) => allText(m).includes(text));
  const health = async () => {
    const res = await fetch(`${h.base}/health/falco`, { headers: auth });
    expect(res.status).toBe(200);
    return (await res.json()) as Json;
  };
  const hostIn = async (host: string) => ((await health()).hosts as Json[]).find((x) => x.host === host);

  it("a metrics snapshot updates the host's record and posts nothing, not even as an alert", async () => {
    const host = "node-metrics-1";
    const { uuids, health: recorded } = await post(metricsSnapshot(host));
    // The answer says where it went: to the host's health record, not the alerts.
    expect(recorded).toEqual(uuids);
    const record = await waitFor(() => hostIn(host), "the host's record");
    expect(record).toMatchObject({
      host,
      state: "healthy",
      heartbeat: true,
      snapshot: {
        falcoVersion: "0.41.0",
        rulesFiles: ["falco_rules_yaml"],
        evtsRate: 1846.4,
        dropsPercent: 0.5,
        drops: 20,
        engine: "modern_bpf",
      },
    });
    // Last seen is when it arrived here, not Falco's clock.
    expect(Math.abs(Date.parse(record.lastSeenAt as string) - Date.now())).toBeLessThan(5000);
    await sleep(500);
    expect(about(HEALTH_CHANNEL, host)).toEqual([]);
    expect(about(CHANNEL, "metrics snapshot")).toEqual([]);
    // Recorded as health, not stored as an alert.
    expect((await h.getAlert(uuids[0]!, auth)).status).toBe(404);
  });

  it("drop alerts roll into one health message per host, updated with the totals; later alerts from the host say they had partial visibility", async () => {
    const host = "node-drops-1";
    await post(dropAlert(host, 2));
    const first = await waitFor(() => about(HEALTH_CHANNEL, host)[0], "the drops message");
    expect(first.text).toContain("dropped 2 events");
    expect(allText(first.blocks)).toContain("*2 system call events*");

    await post([dropAlert(host, 5), timeoutsNotification(host)]);
    await waitFor(
      () => allText(about(HEALTH_CHANNEL, host)[0]?.blocks).includes("*7 system call events*"),
      "the update",
    );
    const messagesNow = about(HEALTH_CHANNEL, host);
    expect(messagesNow).toHaveLength(1);
    expect(messagesNow[0]!.ts).toBe(first.ts);
    expect(allText(messagesNow[0]!.blocks)).toContain("2 syscall event drop alerts");
    expect(allText(messagesNow[0]!.blocks)).toContain("*1 timeouts notification*");
    // A re-sent copy (same Falco time and count) is not counted twice.
    const copy = dropAlert(host, 5);
    await post(copy);
    await post(copy);
    await waitFor(
      () => allText(about(HEALTH_CHANNEL, host)[0]?.blocks).includes("*12 system call events*"),
      "the copy counted once",
    );
    await sleep(1500);
    expect(allText(about(HEALTH_CHANNEL, host)[0]?.blocks)).toContain("*12 system call events*");
    // Never posted as alerts.
    expect(about(CHANNEL, "syscall event drop")).toEqual([]);
    expect(about(CHANNEL, "timeouts notification")).toEqual([]);

    const a = shellAlert(host);
    await post(a.body);
    const alertMessage = await waitFor(() => about(CHANNEL, a.uuid)[0], "the alert's message");
    const note = allText(alertMessage.blocks);
    expect(note).toContain("*Partial visibility:* this node dropped 12 events between");
    const report = await (await fetch(`${h.base}/alerts/${a.uuid}/report`, { headers: auth })).text();
    expect(report).toContain("Partial visibility: this node dropped 12 events between");

    // Re-rendered after a click, the message keeps the note.
    await h.click("falco_acknowledge", a.uuid, "U0ALICE", alertMessage.ts);
    await waitFor(() => (about(CHANNEL, a.uuid)[0]?.edits ?? 0) > 0, "the acknowledged message");
    expect(allText(about(CHANNEL, a.uuid)[0]!.blocks)).toContain("*Partial visibility:*");

    // Another host dropped nothing: no note.
    const other = shellAlert("node-calm-1");
    await post(other.body);
    const calm = await waitFor(() => about(CHANNEL, other.uuid)[0], "the other host's message");
    expect(allText(calm.blocks)).not.toContain("Partial visibility");
    const calmReport = await (await fetch(`${h.base}/alerts/${other.uuid}/report`, { headers: auth })).text();
    expect(calmReport).not.toContain("Partial visibility");

    expect(await hostIn(host)).toMatchObject({
      state: "dropping",
      recent: { drops: 12, dropAlerts: 3, timeouts: 1 },
    });
  });

  it("a host with a heartbeat that goes silent gets one health message, updated when an alert arrives", async () => {
    const host = "node-silent-1";
    await post(metricsSnapshot(host));
    const silent = await waitFor(() => about(HEALTH_CHANNEL, host)[0], "the silent message", 15_000);
    expect(silent.text).toContain(`Falco on ${host} is silent`);
    expect(await hostIn(host)).toMatchObject({ state: "silent" });
    // Two workers check every second: still one message for the outage.
    await sleep(2500);
    expect(about(HEALTH_CHANNEL, host)).toHaveLength(1);

    const a = shellAlert(host);
    await post(a.body);
    await waitFor(() => about(HEALTH_CHANNEL, host)[0]?.text.includes("is back after"), "the back update");
    const back = about(HEALTH_CHANNEL, host);
    expect(back).toHaveLength(1);
    expect(back[0]!.ts).toBe(silent.ts);
    expect(allText(back[0]!.blocks)).toContain("Falco back:");
    expect(await hostIn(host)).toMatchObject({ state: "healthy" });

    // Silent again: a second outage gets a message of its own.
    await waitFor(() => about(HEALTH_CHANNEL, host).length === 2, "the second outage's message", 15_000);
  });

  it("/falco health lists hosts by state, GET /health/falco needs the token, /metrics counts hosts per state", async () => {
    await post(dropAlert("node-list-drops", 3));
    const { responseUrl } = await h.command("health");
    const answer = await waitFor(() => h.slack!.responses.find((r) => r.url === responseUrl), "the list");
    const text = allText(answer.body.blocks);
    expect(text).toContain(":warning: *Dropping events*");
    expect(text).toContain("`node-list-drops`");
    expect(text).toContain(":white_check_mark: *Healthy*");
    expect(text.indexOf("Dropping events")).toBeLessThan(text.indexOf("*Healthy*"));

    const denied = await fetch(`${h.base}/health/falco`);
    expect(denied.status).toBe(401);
    expect(denied.headers.get("www-authenticate")).toContain("Bearer");
    const wrong = await fetch(`${h.base}/health/falco`, {
      headers: { authorization: "Bearer nope-nope-nope" },
    });
    expect(wrong.status).toBe(401);
    const body = await health();
    const counts = body.counts as { silent: number; dropping: number; healthy: number };
    expect(counts.dropping).toBeGreaterThanOrEqual(1);
    expect(counts.silent + counts.dropping + counts.healthy).toBe((body.hosts as Json[]).length);

    const metrics = await (await fetch(`${h.base}/metrics`, { headers: auth })).text();
    expect(metrics).toMatch(
      new RegExp(`falco_chatops_falco_hosts\\{state="dropping"\\} ${counts.dropping}\\b`),
    );
    expect(metrics).toMatch(/falco_chatops_falco_hosts\{state="healthy"\} \d+/);
    expect(metrics).toMatch(/falco_chatops_falco_hosts\{state="silent"\} \d+/);
  });

  it("hostile host names stay text in health messages and the list: escaped, cut, within Slack's limits", async () => {
    const hostile = `<!channel> @here *bold* <https://evil.example|click> ${"x".repeat(400)}`;
    await post(dropAlert(hostile, 9));
    await post(dropAlert(null, 4));
    const messageOf = (needle: string) =>
      messages(HEALTH_CHANNEL).find((m) => allText(m.blocks).includes(needle) && m.text.includes("dropped"));
    const evil = await waitFor(() => messageOf("&lt;!channel&gt;"), "the hostile host's message");
    const nameless = await waitFor(() => messageOf("_(no hostname)_"), "the nameless host's message");
    for (const m of [evil, nameless]) {
      expect(limitProblems(m.blocks)).toEqual([]);
      // plain_text (the header) shows "<!channel>" as it is and pings no one; mrkdwn must be escaped.
      const header = m.blocks[0] as Json;
      expect(header.text.type).toBe("plain_text");
      const t = allText(m.blocks.slice(1)) + m.text;
      expect(t).not.toContain("<!channel>");
      expect(t).not.toContain("<https://evil");
      expect(t).not.toMatch(/@here\b/);
    }
    expect(allText(evil.blocks.slice(1)) + evil.text).toContain("&lt;!channel&gt; @\u2060here");
    const { responseUrl } = await h.command("health");
    const answer = await waitFor(() => h.slack!.responses.find((r) => r.url === responseUrl), "the list");
    const listed = allText(answer.body.blocks);
    expect(listed).toContain("&lt;!channel&gt;");
    expect(listed).not.toContain("<!channel>");
    expect(listed).toContain("_(no hostname)_");
  });
});
