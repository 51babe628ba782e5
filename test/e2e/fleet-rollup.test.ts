import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { limitProblems, type Block } from "../../blocks/limits.js";
import { RESOLVE_MODAL } from "../../blocks/resolve-modal.js";
import { ROLLUP_ACTIONS } from "../../blocks/rollup-message.js";
import { SILENCE_MODAL } from "../../blocks/silence.js";
import type { ViewValues } from "../../src/preview/slack-requests.js";
import { CHANNEL, ESCALATION_CHANNEL, type Harness, startHarness } from "../../support/harness.js";
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
  /** The messages a channel holds (thread replies are not among them), carrying this text. */
  const topLevel = (channel: string, text: string) =>
    (h.slack!.channels.get(channel)?.messages ?? []).filter((m) => allText(m).includes(text));
  let dir: string;
  const post = async (alerts: object[]) =>
    expect((await h.postAlerts(ndjson(alerts), { "content-type": "application/x-ndjson" })).status).toBe(202);
  /** The roll-up's message once posted: its id and ts. */
  const rollupPosted = async (memberUuid: string) => {
    const id = (await waitFor(
      async () => (await get(memberUuid)).rollup?.id as string | undefined,
      "a roll-up",
    ))!;
    const ts = await waitFor(
      async () => (await getRollup(id)).slack?.ts as string | undefined,
      "the roll-up posted",
    );
    return { id, ts };
  };
  /** The last version (post or update) of a roll-up's message. */
  const lastVersion = (id: string, ts: string) =>
    [...h.slack!.calls]
      .reverse()
      .find(
        (c) =>
          (c.method === "chat.update" && c.args.ts === ts) ||
          (c.method === "chat.postMessage" &&
            !c.args.thread_ts &&
            allText(c.args.blocks).includes(`roll-up \`${id}\``)),
      );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "rollup-routes-"));
    const routes = join(dir, "routes.yaml");
    writeFileSync(
      routes,
      ["routes:", '  - when: { hostname: "other-*" }', `    channel: ${OTHER_CHANNEL}`, ""].join("\n"),
    );
    h = await startHarness("fleet-rollup", {
      env: {
        GROUP_WINDOW_SECONDS: "600",
        DEDUPE_WINDOW_SECONDS: "600",
        GROUP_UPDATE_SECONDS: "1",
        SLACK_MAX_POSTS_PER_SECOND: "1",
        FLEET_ROLLUP_GROUPS: "3",
        FLEET_ROLLUP_WINDOW_SECONDS: "300",
        ROUTES_FILE: routes,
        SLACK_ALLOWED_RESPONDERS: "U0ALICE,U0BOB",
      },
    });
    h.slack!.perChannelLimit = true;
  });
  afterAll(async () => {
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
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
    // Paged, and bad input answered 4xx naming what is wrong.
    const page = await getRollup(`${rollupId}?offset=10&limit=5`);
    expect(page.members).toEqual(rollup.members.slice(10, 15));
    const bad = await fetch(`${h.base}/rollups/${rollupId}?limit=-1`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Json).error).toContain("limit");
    const unknown = await fetch(`${h.base}/rollups/no-such-rollup`);
    expect(unknown.status).toBe(404);
    const leaders = rollup.members.map((m: Json) => m.leader as string);
    expect(leaders).toContain(alerts[199]!.uuid);
    expect(leaders).toContain(alerts[0]!.uuid);

    // A member sent again is a duplicate: counted nowhere, and its roll-up is not posted twice; a
    // re-sent copy of one (same content, a new uuid) is not posted on its own either.
    const resent = await h.postAlerts(JSON.stringify(alerts[150]));
    expect(((await resent.json()) as Json).duplicates).toEqual([alerts[150]!.uuid]);
    const copy = { ...alerts[150]!, uuid: "7b1d0000-0000-4000-8000-00000000c0b1" };
    expect(((await (await h.postAlerts(JSON.stringify(copy))).json()) as Json).duplicates).toEqual([
      copy.uuid,
    ]);
    expect((await getRollup(rollupId)).occurrences).toBe(210);
    // A message of another rule queued after the copy's post job: once it is in, the copy's job has run.
    const after = fleetAlert("Read sensitive file untrusted (after the copy)", "node-after");
    await post([after]);
    await waitFor(async () => (await get(after.uuid)).slack, "the later message");
    expect(topLevel(CHANNEL, "node-150")).toEqual([]);

    const posts = topLevel(CHANNEL, "fleet 200");
    expect(posts.length).toBeLessThanOrEqual(4);
    expect(posts.filter((p) => allText(p.blocks).includes("across the fleet"))).toHaveLength(1);
    // Full report lists every member (200 fit the thread's list) in the roll-up's thread, once.
    const ts = rollup.slack.ts as string;
    expect((await h.click(ROLLUP_ACTIONS.report, rollupId, "U0ALICE", ts)).status).toBe(200);
    const replies = await waitFor(() => {
      const found = h.slack!.callsOf("chat.postMessage").filter((c) => c.args.thread_ts === ts);
      const text = allText(found);
      return alerts.every((a) => text.includes(a.uuid)) ? found : undefined;
    }, "the member list in the thread");
    expect(allText(replies)).not.toContain("more members");
    expect((await h.click(ROLLUP_ACTIONS.report, rollupId, "U0CAROL", ts)).status).toBe(200);
    const told = await waitFor(
      () => h.slack!.callsOf("chat.postEphemeral").find((c) => c.args.user === "U0CAROL"),
      "the second click told",
    );
    expect(String(told.args.text)).toContain("already in this roll-up's thread");

    // /falco on a rolled-up alert names its roll-up and links to the roll-up's message.
    const lookup = await h.command(alerts[150]!.uuid);
    expect(lookup.status).toBe(200);
    const answer = await waitFor(
      () => h.slack!.responses.find((r) => r.url === lookup.responseUrl),
      "the /falco answer",
    );
    expect(allText(answer.body)).toContain(
      "*Fleet roll-up:* one message for 200 hosts of this rule (200 groups)",
    );
    expect(allText(answer.body)).toContain(`GET /rollups/${rollupId}`);
    expect(allText(answer.body)).not.toContain("Not posted to Slack yet");

    // Every alert is accounted for: 3 posted on their own, 197 shown by the roll-up alone.
    const statuses = await Promise.all(
      alerts.map(async (a) => (await get(a.uuid)).delivery.status as string),
    );
    expect(statuses.filter((s) => s === "rolled_up")).toHaveLength(197);
  });

  it("acknowledges and escalates every member from the roll-up (first click wins; others refused or told), and later members too", async () => {
    const rule = "Read sensitive file untrusted (fleet ack)";
    const alerts = Array.from({ length: 8 }, (_, i) => fleetAlert(rule, `ack-node-${i}`));
    await post(alerts);
    const { id, ts } = await rollupPosted(alerts[7]!.uuid);

    // Someone SLACK_ALLOWED_RESPONDERS does not list changes nothing.
    expect((await h.click(ROLLUP_ACTIONS.acknowledge, id, "U0STRANGER", ts)).status).toBe(200);
    await waitFor(
      () => h.slack!.callsOf("chat.postEphemeral").find((c) => c.args.user === "U0STRANGER"),
      "the refusal",
    );
    expect((await getRollup(id)).state).toBe("new");

    expect((await h.click(ROLLUP_ACTIONS.acknowledge, id, "U0ALICE", ts)).status).toBe(200);
    await waitFor(async () => (await getRollup(id)).state === "acknowledged", "the roll-up acknowledged");
    for (const a of alerts) {
      const got = await get(a.uuid);
      expect(got.state).toBe("acknowledged");
      expect(got.acknowledgedBy).toBe("U0ALICE");
    }
    const updated = await waitFor(
      () =>
        allText(lastVersion(id, ts)?.args.blocks).includes("Acknowledged by <@U0ALICE>")
          ? lastVersion(id, ts)
          : undefined,
      "the roll-up message showing the acknowledgement",
    );
    expect(allText(updated.args.blocks)).not.toContain(ROLLUP_ACTIONS.acknowledge);

    // The three hosts posted on their own before the roll-up opened show it on their messages too.
    for (const a of alerts.slice(0, 3)) {
      const own = (await get(a.uuid)).slack as { ts: string };
      await waitFor(
        () =>
          h
            .slack!.callsOf("chat.update")
            .find(
              (c) => c.args.ts === own.ts && allText(c.args.blocks).includes("Acknowledged by <@U0ALICE>"),
            ),
        "a member's own message updated",
      );
    }

    // The second click is told who was first.
    expect((await h.click(ROLLUP_ACTIONS.acknowledge, id, "U0BOB", ts)).status).toBe(200);
    const told = await waitFor(
      () => h.slack!.callsOf("chat.postEphemeral").find((c) => c.args.user === "U0BOB"),
      "Bob told",
    );
    expect(String(told.args.text)).toContain("<@U0ALICE> already acknowledged");

    // A host joining afterwards is acknowledged as it joins.
    const late = fleetAlert(rule, "ack-node-late");
    await post([late]);
    const got = await get(late.uuid);
    expect(got.rollup.id).toBe(id);
    expect(got.state).toBe("acknowledged");
    // The roll-up's message climbs in place (a debounced update of the message already posted).
    await waitFor(
      () =>
        h
          .slack!.callsOf("chat.update")
          .find((c) => c.args.ts === ts && allText(c.args.blocks).includes("fired on *9 hosts*")),
      "the roll-up message updated to 9 hosts",
    );

    // Escalate: every member, and one message in the escalation channel naming the roll-up.
    expect((await h.click(ROLLUP_ACTIONS.escalate, id, "U0BOB", ts)).status).toBe(200);
    await waitFor(async () => (await getRollup(id)).state === "escalated", "the roll-up escalated");
    for (const a of [...alerts, late]) expect((await get(a.uuid)).escalatedBy).toBe("U0BOB");
    const escalation = await waitFor(
      () => topLevel(ESCALATION_CHANNEL, "fleet ack")[0],
      "the escalation channel's message",
    );
    expect(allText(escalation)).toContain("9 hosts");
    expect(allText(escalation)).toContain(id);
  });

  it("resolves every member from the roll-up's modal, after which the rule's new groups count again", async () => {
    const rule = "Read sensitive file untrusted (fleet resolve)";
    // A group counted before the roll-up opened is more severe: the roll-up carries its priority.
    const alerts = Array.from({ length: 6 }, (_, i) =>
      fleetAlert(rule, `resolve-node-${i}`, { priority: i === 0 ? "Error" : "Warning" }),
    );
    await post(alerts);
    const { id, ts } = await rollupPosted(alerts[5]!.uuid);
    expect((await getRollup(id)).priority).toBe("Error");
    expect((await h.click(ROLLUP_ACTIONS.resolve, id, "U0BOB", ts)).status).toBe(200);
    const modal = await waitFor(() => h.slack!.openModal("U0BOB"), "the Resolve modal");
    expect(allText(modal)).toContain("fleet resolve");
    const values: ViewValues = {
      [RESOLVE_MODAL.verdictBlock]: {
        [RESOLVE_MODAL.verdictAction]: {
          type: "radio_buttons",
          selected_option: { value: "false_positive" },
        },
      },
      [RESOLVE_MODAL.noteBlock]: {
        [RESOLVE_MODAL.noteAction]: { type: "plain_text_input", value: "scanner" },
      },
    };
    expect(await h.slack!.submitView("U0BOB", values)).toMatchObject({ action: "closed" });
    await waitFor(async () => (await getRollup(id)).state === "resolved", "the roll-up resolved");
    for (const a of alerts) {
      const got = await get(a.uuid);
      expect(got.state).toBe("resolved");
      expect(got.resolution).toMatchObject({ verdict: "false_positive", by: "U0BOB", note: "scanner" });
    }
    expect((await getRollup(id)).open).toBe(false);
    // The next new group of the rule does not join the resolved roll-up: it is posted on its own.
    const next = fleetAlert(rule, "resolve-node-next");
    await post([next]);
    const got = await get(next.uuid);
    expect(got.rollup).toBeNull();
    expect(got.delivery.status).not.toBe("rolled_up");
  });

  it("rolls up only its own rule in its own channel", async () => {
    const rule = "Read sensitive file untrusted (fleet scope)";
    await post(Array.from({ length: 5 }, (_, i) => fleetAlert(rule, `scope-node-${i}`)));
    const sameRuleOtherChannel = [fleetAlert(rule, "other-1"), fleetAlert(rule, "other-2")];
    const otherRule = fleetAlert("Read sensitive file untrusted (fleet scope, other rule)", "scope-node-9");
    await post([...sameRuleOtherChannel, otherRule]);
    for (const a of [...sameRuleOtherChannel, otherRule]) {
      const got = await get(a.uuid);
      expect(got.rollup).toBeNull();
      expect(got.delivery.status).not.toBe("rolled_up");
    }
    await waitFor(async () => (await get(otherRule.uuid)).slack, "the other rule's own message");
    await waitFor(() => topLevel(OTHER_CHANNEL, "other-2").length === 1, "the other channel's own message");
  });

  it("keeps hostile and very long names as text within Slack's limits", async () => {
    const rule = "Read sensitive <!channel> file @here (fleet hostile)";
    const alerts = [
      fleetAlert(rule, "<https://evil.example|click me>", { pod: "<!subteam^S123>", ns: "@everyone" }),
      fleetAlert(rule, "h".repeat(5000), { pod: "p".repeat(3000) }),
      fleetAlert(rule, "`code` *bold* _it_ ~s~ &amp;"),
      ...Array.from({ length: 60 }, (_, i) => fleetAlert(rule, `<@U0VICTIM${i}>`)),
    ];
    await post(alerts);
    const { id, ts } = await rollupPosted(alerts[10]!.uuid);
    await waitFor(() => allText(lastVersion(id, ts)?.args.blocks).includes("63 hosts"), "all 63 hosts shown");
    const blocks = lastVersion(id, ts)!.args.blocks as Block[];
    expect(limitProblems(blocks)).toEqual([]);
    // Every mrkdwn text (plain_text, the header's, is never parsed for mentions or links) and the
    // notification text.
    const mrkdwn: string[] = [String(lastVersion(id, ts)!.args.text)];
    JSON.stringify(blocks, (_key, value: unknown) => {
      const t = value as { type?: unknown; text?: unknown };
      if (t && t.type === "mrkdwn" && typeof t.text === "string") mrkdwn.push(t.text);
      return value;
    });
    const text = mrkdwn.join("\n");
    expect(text).toContain("&lt;https://evil.example|click me&gt;");
    expect(text).not.toMatch(/<!channel>|<!subteam|<https:|<@U0VICTIM/);
    expect(text).not.toMatch(/(?<!\u2060)@here|@everyone(?!\u2060)/u);
    expect(id).toBe(alerts[3]!.uuid);
  });

  it("silences the rule from the roll-up, narrowed to what every member shares; held alerts never join it", async () => {
    const rule = "Read sensitive file untrusted (fleet silence)";
    // One member joining after the roll-up opened is more severe: the roll-up, and its silence, carry it.
    const alerts = Array.from({ length: 6 }, (_, i) =>
      fleetAlert(rule, `silence-node-${i}`, { ns: "batch", priority: i === 4 ? "Critical" : "Warning" }),
    );
    await post(alerts);
    const { id, ts } = await rollupPosted(alerts[5]!.uuid);
    expect((await h.click(ROLLUP_ACTIONS.silence, id, "U0ALICE", ts)).status).toBe(200);
    const modal = await waitFor(() => h.slack!.openModal("U0ALICE"), "the Silence modal");
    // Hosts differ from member to member: only the namespace, which all of them share, is offered.
    const scope = (modal.view.blocks as Json[]).find((b) => b.block_id === SILENCE_MODAL.scope.block)!;
    expect(scope.element.options.map((o: Json) => o.value)).toEqual(["k8s.ns.name"]);
    const values: ViewValues = {
      [SILENCE_MODAL.scope.block]: {
        [SILENCE_MODAL.scope.action]: { type: "checkboxes", selected_options: [{ value: "k8s.ns.name" }] },
      },
      [SILENCE_MODAL.duration.block]: {
        [SILENCE_MODAL.duration.action]: { type: "radio_buttons", selected_option: { value: "1h" } },
      },
      [SILENCE_MODAL.until.block]: {
        [SILENCE_MODAL.until.action]: { type: "datepicker", selected_date: null },
      },
      [SILENCE_MODAL.reason.block]: {
        [SILENCE_MODAL.reason.action]: { type: "plain_text_input", value: "batch job rollout" },
      },
    };
    expect(await h.slack!.submitView("U0ALICE", values)).toMatchObject({ action: "closed" });
    const { silences } = (await (await fetch(`${h.base}/silences`)).json()) as { silences: Json[] };
    const made = silences.find((x) => x.rule === rule);
    expect(made).toMatchObject({
      priority: "Critical",
      match: { "k8s.ns.name": "batch" },
      createdBy: "U0ALICE",
    });
    expect(made!.message).toEqual({ channel: CHANNEL, ts });

    // The rule's next alerts in that namespace are held back (once every process has the silence),
    // and do not join the roll-up.
    await waitFor(async () => {
      const probe = fleetAlert(rule, `silence-probe-${serial}`, { ns: "batch" });
      await post([probe]);
      return (await get(probe.uuid)).delivery.status === "silenced";
    }, "the silence in force");
    const before = (await getRollup(id)).groups as number;
    const held = fleetAlert(rule, "silence-node-new", { ns: "batch" });
    await post([held]);
    const got = await get(held.uuid);
    expect(got.delivery.status).toBe("silenced");
    expect(got.rollup).toBeNull();
    expect((await getRollup(id)).groups).toBe(before);
  });
});
