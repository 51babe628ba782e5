import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROLLUP_ACTIONS } from "../../blocks/rollup-message.js";
import { CHANNEL, type Harness, startHarness } from "../../support/harness.js";
import { waitFor } from "../../support/redis.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- assertions walk arbitrary JSON
type Json = Record<string, any>;
const allText = (x: unknown) => JSON.stringify(x);
const OTHER_CHANNEL = "C0OTHERTEAM";

let serial = 0;
/** One alert of `rule` on `host` (pod `pod` in namespace `ns`), with a fresh uuid and time. */
function fleetAlert(
  rule: string,
  host: string,
  extra: { pod?: string; ns?: string; priority?: string } = {},
) {
  const i = ++serial;
  const nanos = String(100_000_000 + i).padStart(9, "0");
  return {
    uuid: `7b1d0000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    rule,
    priority: extra.priority ?? "Warning",
    source: "syscall",
    hostname: host,
    time: `2025-06-01T11:00:00.${nanos}Z`,
    output: `11:00:00.${nanos}: Warning Sensitive file opened for reading (file=/etc/shadow n=${i})`,
    output_fields: {
      "container.id": "0123456789ab",
      "k8s.ns.name": extra.ns ?? "payments",
      "k8s.pod.name": extra.pod ?? `${host}-pod`,
      "proc.cmdline": "cat /etc/shadow",
      "fd.name": "/etc/shadow",
    },
    tags: ["T1555"],
  };
}

const ndjson = (alerts: object[]) => alerts.map((a) => JSON.stringify(a)).join("\n");

describe("fleet roll-up: one rule on many hosts becomes one message", () => {
  let h: Harness;
  const get = async (uuid: string) => (await (await h.getAlert(uuid)).json()) as Json;
  const getRollup = async (id: string) => (await (await fetch(`${h.base}/rollups/${id}`)).json()) as Json;
  /** Top-level messages in a channel (not thread replies). */
  const topLevel = (channel: string, text: string) =>
    h
      .slack!.callsOf("chat.postMessage")
      .filter((c) => c.args.channel === channel && !c.args.thread_ts && allText(c.args).includes(text));

  beforeAll(async () => {
    h = await startHarness("fleet-rollup", {
      env: {
        GROUP_WINDOW_SECONDS: "600",
        DEDUPE_WINDOW_SECONDS: "600",
        GROUP_UPDATE_SECONDS: "1",
        SLACK_MAX_POSTS_PER_SECOND: "1",
        FLEET_ROLLUP_GROUPS: "3",
        FLEET_ROLLUP_WINDOW_SECONDS: "300",
        ROUTES_FILE: "",
      },
    });
    h.slack!.perChannelLimit = true;
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("posts at most threshold + 1 messages for 200 hosts, the roll-up showing all 200 and the total", async () => {
    const rule = "Read sensitive file untrusted (fleet 200)";
    const alerts = Array.from({ length: 200 }, (_, i) =>
      fleetAlert(rule, `node-${String(i).padStart(3, "0")}`),
    );
    // A second occurrence on ten of the hosts: counted on the roll-up, no new message.
    const again = alerts.slice(100, 110).map((a) => fleetAlert(rule, a.hostname));
    for (let i = 0; i < alerts.length; i += 50)
      expect(
        (await h.postAlerts(ndjson(alerts.slice(i, i + 50)), { "content-type": "application/x-ndjson" }))
          .status,
      ).toBe(202);
    expect((await h.postAlerts(ndjson(again), { "content-type": "application/x-ndjson" })).status).toBe(202);

    // The first three groups are posted on their own; the fourth opens the roll-up, which takes
    // the three in as members.
    const member = await get(alerts[150]!.uuid);
    expect(member.delivery.status).toBe("rolled_up");
    const rollupId = member.rollup.id as string;
    expect(rollupId).toBe(alerts[3]!.uuid);
    expect(member.rollup).toMatchObject({ id: rollupId, state: "new", open: true });
    const first = await get(alerts[0]!.uuid);
    expect(first.delivery.status).not.toBe("rolled_up");
    expect(first.rollup).toMatchObject({ id: rollupId });

    await waitFor(
      () =>
        [...h.slack!.callsOf("chat.postMessage"), ...h.slack!.callsOf("chat.update")].find((c) =>
          allText(c.args.blocks).includes("fired on *200 hosts*"),
        ),
      "the roll-up message showing 200 hosts",
      20_000,
    );
    const rollup = await getRollup(rollupId);
    expect(rollup).toMatchObject({
      id: rollupId,
      rule,
      groups: 200,
      occurrences: 210,
      open: true,
      state: "new",
    });
    expect(rollup.hosts.count).toBe(200);
    expect(rollup.members).toHaveLength(200);
    // The busiest first: the ten hosts seen twice.
    expect(rollup.members[0]).toMatchObject({ occurrences: 2, namespace: "payments" });
    const leaders = rollup.members.map((m: Json) => m.leader as string);
    expect(leaders).toContain(alerts[199]!.uuid);
    expect(leaders).toContain(alerts[0]!.uuid);

    const posts = topLevel(CHANNEL, "fleet 200");
    expect(posts.length).toBeLessThanOrEqual(4);
    expect(posts.filter((p) => allText(p.args.blocks).includes("across the fleet"))).toHaveLength(1);
    // Every alert is accounted for: 3 posted on their own, 197 shown by the roll-up alone.
    const statuses = await Promise.all(
      alerts.map(async (a) => (await get(a.uuid)).delivery.status as string),
    );
    expect(statuses.filter((s) => s === "rolled_up")).toHaveLength(197);
  });
});
