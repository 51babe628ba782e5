import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACTIONS } from "../../blocks/alert-message.js";
import {
  CHANNEL,
  ESCALATION_CHANNEL,
  type Harness,
  SIGNING_SECRET,
  startHarness,
} from "../../support/harness.js";
import { blockActionsBody, signedHeaders } from "../../src/preview/slack-requests.js";
import { waitFor } from "../../support/redis.js";

const memfd = readFileSync(new URL("../../examples/memfd-create.json", import.meta.url), "utf8");
const shell = readFileSync(new URL("../../examples/terminal-shell.json", import.meta.url), "utf8");

function withUuid(json: string, uuid: string): string {
  return JSON.stringify({ ...JSON.parse(json), uuid });
}

/** GET /alerts/:uuid as these tests read it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- assertions walk arbitrary JSON
type AlertJson = Record<string, any>;

const allText = (blocks: unknown) => JSON.stringify(blocks);

describe("alert → Slack → buttons → /falco, end to end", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("flow");
  });
  afterAll(async () => {
    await h.stop();
  });

  async function ingestAndWaitForPost(body: string): Promise<{ uuid: string; ts: string }> {
    const res = await h.postAlerts(body);
    expect(res.status).toBe(202);
    const { uuids } = (await res.json()) as { uuids: string[] };
    const uuid = uuids[0]!;
    const post = await waitFor(
      () => h.slack!.callsOf("chat.postMessage").find((c) => allText(c.args.blocks).includes(uuid)),
      "the alert message",
    );
    const ts = await waitFor(async () => {
      const alert = (await (await h.getAlert(uuid)).json()) as { slack: { ts: string } | null };
      return alert.slack?.ts;
    }, "the stored Slack ts");
    expect(post.args.channel).toBe(CHANNEL);
    return { uuid, ts };
  }

  it("posts one Block Kit message for the memfd_create sample and reports the enrichment", async () => {
    const { uuid, ts } = await ingestAndWaitForPost(memfd);
    expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const post = h.slack!.callsOf("chat.postMessage").find((c) => allText(c.args.blocks).includes(uuid))!;
    const blocks = post.args.blocks as {
      type: string;
      text?: { text: string };
      elements?: { action_id: string }[];
    }[];
    expect(blocks[0]!.text!.text).toBe(":red_circle: Critical: Fileless execution via memfd_create");
    expect(allText(blocks)).toContain("peaceful_mestorf");
    expect(allText(blocks)).toContain("memfd:program");
    expect(allText(blocks)).toContain("event-generator");
    expect(allText(blocks)).toContain("T1620");
    expect(allText(blocks)).toContain("Reflective Code Loading");
    expect(blocks.at(-1)!.elements!.map((e) => e.action_id)).toEqual([
      ACTIONS.acknowledge,
      ACTIONS.escalate,
      ACTIONS.resolve,
      ACTIONS.expand,
      ACTIONS.report,
      ACTIONS.take,
      ACTIONS.assign,
      ACTIONS.silence,
    ]);
    expect(post.args.text).toBe("Critical: Fileless execution via memfd_create on worker-node-1");
    expect(post.args.unfurl_links).toBe("false");

    const alert = (await (await h.getAlert(uuid)).json()) as AlertJson;
    expect(alert).toMatchObject({
      uuid,
      rule: "Fileless execution via memfd_create",
      priority: "Critical",
      source: "syscall",
      hostname: "worker-node-1",
      time: "2024-10-05T13:00:46.937782756Z",
      state: "new",
      acknowledgedBy: null,
      escalatedBy: null,
      slack: { channel: CHANNEL, ts },
      enrichment: { knowledgeId: "fileless-execution-via-memfd-create", match: "rule", mitre: ["T1620"] },
    });
    expect(alert.tags).toContain("T1620");
    // 19-digit nanosecond integers survive storage exactly (JSON.parse would round them).
    const raw = await (await h.getAlert(uuid)).text();
    expect(raw).toContain('"evt.time":1728133246937782756');
  });

  it("acknowledges in place, once; a second click tells who did it", async () => {
    const { uuid, ts } = await ingestAndWaitForPost(withUuid(shell, "1a2b3c4d-0000-4000-8000-000000000001"));
    const res = await h.click(ACTIONS.acknowledge, uuid, "U0ALICE", ts);
    expect(res.status).toBe(200);
    const update = await waitFor(
      () =>
        h
          .slack!.callsOf("chat.update")
          .find((c) => c.args.ts === ts && allText(c.args.blocks).includes("Acknowledged by <@U0ALICE>")),
      "the acknowledged message",
    );
    expect(update.args.channel).toBe(CHANNEL);
    expect(allText(update.args.blocks)).not.toContain(ACTIONS.acknowledge);
    expect(allText(update.args.blocks)).toContain(ACTIONS.escalate);

    const alert = (await (await h.getAlert(uuid)).json()) as Record<string, unknown>;
    expect(alert.state).toBe("acknowledged");
    expect(alert.acknowledgedBy).toBe("U0ALICE");

    const updatesBefore = h.slack!.callsOf("chat.update").length;
    await h.click(ACTIONS.acknowledge, uuid, "U0BOB", ts);
    const ephemeral = await waitFor(
      () => h.slack!.callsOf("chat.postEphemeral").find((c) => c.args.user === "U0BOB"),
      "the ephemeral refusal",
    );
    expect(ephemeral.args.text).toContain("<@U0ALICE> already acknowledged this alert");
    expect(h.slack!.callsOf("chat.update").length).toBe(updatesBefore);
    expect(((await (await h.getAlert(uuid)).json()) as Record<string, unknown>).acknowledgedBy).toBe(
      "U0ALICE",
    );
  });

  it("lets exactly one of two simultaneous acknowledgements win", async () => {
    const { uuid, ts } = await ingestAndWaitForPost(withUuid(shell, "1a2b3c4d-0000-4000-8000-000000000002"));
    const users = ["U0CAROL", "U0DAVE", "U0ERIN", "U0FRANK"];
    await Promise.all(users.map((u) => h.click(ACTIONS.acknowledge, uuid, u, ts)));
    const refusals = await waitFor(() => {
      const r = h
        .slack!.callsOf("chat.postEphemeral")
        .filter(
          (c) => users.includes(String(c.args.user)) && String(c.args.text).includes("already acknowledged"),
        );
      return r.length === users.length - 1 ? r : null;
    }, "three refusals");
    const winner = ((await (await h.getAlert(uuid)).json()) as Record<string, string>).acknowledgedBy;
    expect(users).toContain(winner);
    expect(refusals.map((r) => r.args.user)).not.toContain(winner);
    const acked = h
      .slack!.callsOf("chat.update")
      .filter((c) => c.args.ts === ts && allText(c.args.blocks).includes("Acknowledged by"));
    expect(acked).toHaveLength(1);
  });

  it("escalates to the escalation channel with a permalink, and marks the original", async () => {
    const { uuid, ts } = await ingestAndWaitForPost(withUuid(memfd, "1a2b3c4d-0000-4000-8000-000000000003"));
    await h.click(ACTIONS.escalate, uuid, "U0GRACE", ts);
    const escalation = await waitFor(
      () =>
        h
          .slack!.callsOf("chat.postMessage")
          .find((c) => c.args.channel === ESCALATION_CHANNEL && allText(c.args.blocks).includes(uuid)),
      "the escalation message",
    );
    expect(allText(escalation.args.blocks)).toContain(
      `https://example.slack.com/archives/${CHANNEL}/p${ts.replace(".", "")}`,
    );
    expect(allText(escalation.args.blocks)).toContain("<@U0GRACE>");
    expect(allText(escalation.args.blocks)).toContain("Fileless execution via memfd_create");
    await waitFor(
      () =>
        h
          .slack!.callsOf("chat.update")
          .find((c) => c.args.ts === ts && allText(c.args.blocks).includes("Escalated by <@U0GRACE>")),
      "the original marked escalated",
    );
    const alert = (await (await h.getAlert(uuid)).json()) as AlertJson;
    expect(alert.state).toBe("escalated");
    expect(alert.escalatedBy).toBe("U0GRACE");
    expect(alert.escalation.channel).toBe(ESCALATION_CHANNEL);
  });

  it("expands the mitigation steps in place, filled with the alert's values, and hides them again", async () => {
    const { uuid, ts } = await ingestAndWaitForPost(withUuid(memfd, "1a2b3c4d-0000-4000-8000-000000000004"));
    await h.click(ACTIONS.expand, uuid, "U0HEIDI", ts);
    const expanded = await waitFor(
      () =>
        h
          .slack!.callsOf("chat.update")
          .find((c) => c.args.ts === ts && allText(c.args.blocks).includes("How to investigate")),
      "the expanded message",
    );
    const text = allText(expanded.args.blocks);
    // A container whose runtime the alert does not name: the Docker and the crictl forms both show.
    expect(text).toContain("docker top c61b4b13ae44 -o pid,ppid,user,lstart,args");
    expect(text).toContain("crictl inspect c61b4b13ae44");
    expect(text).toContain("Blast radius");
    expect(text).toContain(ACTIONS.collapse);
    expect(text).not.toContain(ACTIONS.expand);

    await h.click(ACTIONS.collapse, uuid, "U0HEIDI", ts);
    await waitFor(
      () =>
        !allText(
          h
            .slack!.callsOf("chat.update")
            .filter((c) => c.args.ts === ts)
            .at(-1)!.args.blocks,
        ).includes("How to investigate"),
      "the collapsed message",
    );
    expect(
      allText(
        h
          .slack!.callsOf("chat.update")
          .filter((c) => c.args.ts === ts)
          .at(-1)!.args.blocks,
      ),
    ).toContain(ACTIONS.expand);
  });

  it("puts mitigation steps too long for the message in its thread, picked for the pod's node", async () => {
    const { uuid, ts } = await ingestAndWaitForPost(withUuid(shell, "1a2b3c4d-0000-4000-8000-000000000005"));
    await h.click(ACTIONS.expand, uuid, "U0HEIDI", ts);
    const replies = await waitFor(() => {
      const inThread = h.slack!.callsOf("chat.postMessage").filter((c) => c.args.thread_ts === ts);
      return inThread.some((c) => allText(c.args.blocks).includes("How to investigate")) ? inThread : null;
    }, "the mitigation steps in the thread");
    const text = replies.map((c) => allText(c.args.blocks)).join("\n");
    expect(text).toContain("kubectl -n shop describe pod shop-web-7d9c8b6f5-x2x7q");
    // A Kubernetes pod runs under containerd or CRI-O: crictl, never docker.
    expect(text).toContain("crictl inspect --output go-template --template '{{.info.pid}}' 4f0e5b1a9c2d");
    expect(text).not.toMatch(/```\s*docker /);
    const pointing = await waitFor(
      () =>
        h
          .slack!.callsOf("chat.update")
          .find((c) => c.args.ts === ts && allText(c.args.blocks).includes("in this message's thread")),
      "the message pointing at its thread",
    );
    // The steps are in the thread: no Show button left that would do nothing.
    expect(allText(pointing.args.blocks)).not.toContain(ACTIONS.expand);
    expect(allText(pointing.args.blocks)).toContain(ACTIONS.report);
  });

  it("answers /falco with a uuid prefix, help, recent and unknown ids, ephemerally", async () => {
    const { uuid } = await ingestAndWaitForPost(withUuid(memfd, "7e57ab1e-0000-4000-8000-000000000005"));
    const lookup = await h.command(uuid.slice(0, 8));
    expect(lookup.status).toBe(200);
    const answer = await waitFor(
      () => h.slack!.responses.find((r) => r.url === lookup.responseUrl),
      "the lookup answer",
    );
    expect(answer.body.response_type).toBe("ephemeral");
    const text = allText(answer.body.blocks);
    expect(text).toContain("Fileless execution via memfd_create");
    expect(text).toContain("worker-node-1");
    expect(text).toContain("*State:* new");
    expect(text).toContain("https://example.slack.com/archives/");

    const help = await h.command("");
    const helpAnswer = await waitFor(
      () => h.slack!.responses.find((r) => r.url === help.responseUrl),
      "help",
    );
    expect(allText(helpAnswer.body.blocks)).toContain("/falco recent");

    const unknown = await h.command("ffffffff-ffff");
    const unknownAnswer = await waitFor(
      () => h.slack!.responses.find((r) => r.url === unknown.responseUrl),
      "unknown",
    );
    expect(String(unknownAnswer.body.text)).toContain("No alert with uuid");

    const short = await h.command("7e57");
    const shortAnswer = await waitFor(
      () => h.slack!.responses.find((r) => r.url === short.responseUrl),
      "too short",
    );
    expect(String(shortAnswer.body.text)).toContain("at least 8 characters");

    const recent = await h.command("recent");
    const recentAnswer = await waitFor(
      () => h.slack!.responses.find((r) => r.url === recent.responseUrl),
      "recent",
    );
    expect(allText(recentAnswer.body.blocks)).toContain("7e57ab1e");
  });

  it("posts the full report in the alert's thread once, and says so on a second click", async () => {
    const { uuid, ts } = await ingestAndWaitForPost(withUuid(memfd, "4e7041a1-0000-4000-8000-000000000007"));
    await h.click(ACTIONS.report, uuid, "U0IVAN", ts);
    const parts = await waitFor(() => {
      const inThread = h.slack!.callsOf("chat.postMessage").filter((c) => c.args.thread_ts === ts);
      return inThread.length > 0 && allText(inThread.map((c) => c.args.blocks)).includes("Next steps")
        ? inThread
        : undefined;
    }, "the report in the thread");
    const text = allText(parts.map((c) => c.args.blocks));
    for (const heading of [
      "Summary",
      "Event details",
      "Event breakdown",
      "Observations",
      "MITRE ATT&amp;CK",
      "Next steps",
    ])
      expect(text).toContain(`*${heading}*`);
    expect(text).toContain("memfd:program");
    expect(text).toContain("Process lineage, newest first");
    expect(String(parts[0]!.args.text)).toContain(
      "Incident report for Critical: Fileless execution via memfd_create",
    );

    await h.click(ACTIONS.report, uuid, "U0JUDY", ts);
    const told = await waitFor(
      () => h.slack!.callsOf("chat.postEphemeral").find((c) => c.args.user === "U0JUDY"),
      "the ephemeral notice",
    );
    expect(String(told.args.text)).toContain("already in this alert's thread");
    expect(h.slack!.callsOf("chat.postMessage").filter((c) => c.args.thread_ts === ts)).toHaveLength(
      parts.length,
    );
  });

  it("answers /falco report <uuid> with the report, ephemerally", async () => {
    const { uuid } = await ingestAndWaitForPost(withUuid(shell, "4e7041a1-0000-4000-8000-000000000008"));
    const asked = await h.command(`report ${uuid}`);
    expect(asked.status).toBe(200);
    const answers = await waitFor(() => {
      const got = h.slack!.responses.filter((r) => r.url === asked.responseUrl);
      return allText(got.map((r) => r.body.blocks)).includes("Next steps") ? got : undefined;
    }, "the report answers");
    expect(answers.every((a) => a.body.response_type === "ephemeral")).toBe(true);
    expect(answers.length).toBeLessThanOrEqual(5);
    expect(allText(answers.map((a) => a.body.blocks))).toContain("Terminal shell in container");

    const missing = await h.command("report");
    const hint = await waitFor(
      () => h.slack!.responses.find((r) => r.url === missing.responseUrl),
      "the usage hint",
    );
    expect(String(hint.body.text)).toContain("/falco report <uuid>");
  });

  it("rejects Slack requests with a bad signature", async () => {
    const body = "payload=%7B%7D";
    const res = await fetch(`${h.base}/slack/events`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": String(Math.floor(Date.now() / 1000)),
        "x-slack-signature": "v0=deadbeef",
      },
      body,
    });
    expect(res.status).toBe(401);
  });

  it("refuses correctly signed requests dated more than 5 minutes before or after now", async () => {
    const { uuid, ts } = await ingestAndWaitForPost(withUuid(memfd, "7e57ab1e-0000-4000-8000-0000000000f5"));
    const body = blockActionsBody({
      actionId: ACTIONS.acknowledge,
      value: uuid,
      userId: "U0MALLORY",
      channel: CHANNEL,
      messageTs: ts,
      responseUrl: h.slack!.responseUrl(CHANNEL, "U0MALLORY"),
    });
    const now = Math.floor(Date.now() / 1000);
    for (const when of [now + 6 * 60, now - 6 * 60]) {
      const res = await fetch(`${h.base}/slack/events`, {
        method: "POST",
        headers: signedHeaders(SIGNING_SECRET, body, when),
        body,
      });
      expect(res.status, `timestamp ${when - now} s from now`).toBe(401);
    }
    const fresh = await fetch(`${h.base}/slack/events`, {
      method: "POST",
      headers: signedHeaders(SIGNING_SECRET, body, now),
      body,
    });
    expect(fresh.status).toBe(200);
    await waitFor(
      async () => ((await (await h.getAlert(uuid)).json()) as AlertJson).state === "acknowledged",
      "ack",
    );
  });
});

describe("SLACK_ALLOWED_RESPONDERS", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("responders", { env: { SLACK_ALLOWED_RESPONDERS: "U0LEAD, S0ONCALL" } });
    h.slack!.userGroups.set("S0ONCALL", ["U0ONCALL"]);
  });
  afterAll(async () => {
    await h.stop();
  });

  it("lets listed users and members of listed user groups acknowledge; refuses others privately", async () => {
    const res = await h.postAlerts(withUuid(memfd, "a110wed0-0000-4000-8000-000000000001"));
    const { uuids } = (await res.json()) as { uuids: string[] };
    const uuid = uuids[0]!;
    const ts = await waitFor(
      async () => ((await (await h.getAlert(uuid)).json()) as AlertJson).slack?.ts as string | undefined,
      "posted",
    );
    await h.click(ACTIONS.acknowledge, uuid, "U0STRANGER", ts);
    const refusal = await waitFor(
      () => h.slack!.callsOf("chat.postEphemeral").find((c) => c.args.user === "U0STRANGER"),
      "the refusal",
    );
    expect(String(refusal.args.text)).toContain("SLACK_ALLOWED_RESPONDERS");
    expect(((await (await h.getAlert(uuid)).json()) as AlertJson).state).toBe("new");

    await h.click(ACTIONS.acknowledge, uuid, "U0ONCALL", ts);
    await waitFor(
      async () => ((await (await h.getAlert(uuid)).json()) as AlertJson).acknowledgedBy === "U0ONCALL",
      "acknowledged by the on-call group member",
    );
  });
});
