import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebClient } from "@slack/web-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACTIONS } from "../../blocks/alert-message.js";
import { NOTE_MAX_CHARS, RESOLVE_MODAL, renderResolveModal } from "../../blocks/resolve-modal.js";
import { parseAlertBody } from "../../src/falco/body.js";
import { blockActionsBody, signedHeaders, type ViewValues } from "../../src/preview/slack-requests.js";
import { BOT_TOKEN, CHANNEL, type Harness, SIGNING_SECRET, startHarness } from "../../support/harness.js";
import { waitFor } from "../../support/redis.js";

const memfd = readFileSync(new URL("../../examples/memfd-create.json", import.meta.url), "utf8");
const shell = readFileSync(new URL("../../examples/terminal-shell.json", import.meta.url), "utf8");

const withUuid = (json: string, uuid: string) => JSON.stringify({ ...JSON.parse(json), uuid });
const allText = (value: unknown) => JSON.stringify(value);
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- assertions walk arbitrary JSON
type Json = Record<string, any>;

/** What a person enters in the Resolve modal. */
function form(verdict: string | null, note: string | null = null): ViewValues {
  return {
    [RESOLVE_MODAL.verdictBlock]: {
      [RESOLVE_MODAL.verdictAction]: {
        type: "radio_buttons",
        selected_option: verdict === null ? null : { value: verdict },
      },
    },
    [RESOLVE_MODAL.noteBlock]: { [RESOLVE_MODAL.noteAction]: { type: "plain_text_input", value: note } },
  };
}

async function alertJson(h: Harness, uuid: string): Promise<Json> {
  return (await (await h.getAlert(uuid)).json()) as Json;
}

/** Posts an alert and waits for its message; answers the stored Slack ts. */
async function posted(h: Harness, body: string, uuid: string): Promise<string> {
  expect((await h.postAlerts(body)).status).toBe(202);
  return waitFor(async () => (await alertJson(h, uuid)).slack?.ts as string | undefined, `${uuid} posted`);
}

/** The buttons of the alert message's last version (its post or an update). */
function buttonsOf(h: Harness, uuid: string, ts: string): { action_id: string; value: string }[] {
  const last = [...h.slack!.calls]
    .reverse()
    .find(
      (c) =>
        (c.method === "chat.update" && c.args.ts === ts) ||
        (c.method === "chat.postMessage" &&
          c.args.thread_ts === undefined &&
          allText(c.args.blocks).includes(uuid)),
    );
  const blocks = (last?.args.blocks ?? []) as Json[];
  return (blocks.find((b) => b.type === "actions")?.elements ?? []) as { action_id: string; value: string }[];
}

function threadReplies(h: Harness, channel: string, ts: string): string[] {
  return h
    .slack!.callsOf("chat.postMessage")
    .filter((c) => c.args.channel === channel && c.args.thread_ts === ts)
    .map((c) => String(c.args.text));
}

async function openResolveModal(h: Harness, uuid: string, user: string, ts: string) {
  expect((await h.click(ACTIONS.resolve, uuid, user, ts)).status).toBe(200);
  return waitFor(() => h.slack!.openModal(user), `${user}'s Resolve modal`);
}

async function metricsText(h: Harness): Promise<string> {
  return (await fetch(`${h.base}/metrics`)).text();
}

function metricValue(text: string, line: RegExp): number {
  const m = text.split("\n").find((l) => line.test(l));
  return m ? Number(m.split(" ").at(-1)) : 0;
}

describe("Resolve with a verdict, and Reopen, end to end", () => {
  let h: Harness;
  const logLines: string[] = [];
  beforeAll(async () => {
    h = await startHarness("resolve", { logLines });
  });
  afterAll(async () => {
    await h.stop();
  });

  it("resolves through the modal: message, thread, API, /falco, report and metrics show the verdict", async () => {
    const uuid = "5e501e00-0000-4000-8000-000000000001";
    const ts = await posted(h, withUuid(shell, uuid), uuid);
    expect(buttonsOf(h, uuid, ts).map((b) => b.action_id)).toEqual([
      ACTIONS.acknowledge,
      ACTIONS.escalate,
      ACTIONS.resolve,
      ACTIONS.expand,
      ACTIONS.report,
      ACTIONS.take,
      ACTIONS.assign,
      ACTIONS.silence,
    ]);
    const verdictLine =
      /^falco_chatops_verdicts_total\{rule="Terminal shell in container",verdict="false_positive"\}/;
    const resolveCount = /^falco_chatops_time_to_resolve_seconds_count\{priority="Notice"\}/;
    const before = await metricsText(h);

    const modal = await openResolveModal(h, uuid, "U0ALICE", ts);
    expect(modal.view.callback_id).toBe(RESOLVE_MODAL.callbackId);
    expect(JSON.parse(String(modal.view.private_metadata))).toEqual({ uuid, channel: CHANNEL, ts });

    const outcome = await h.slack!.submitView("U0ALICE", form("false_positive", "cron job <!channel> *ok*"));
    expect(outcome).toMatchObject({ status: 200, action: "closed" });
    expect(h.slack!.openModal("U0ALICE")).toBeUndefined();

    const update = await waitFor(
      () =>
        h
          .slack!.callsOf("chat.update")
          .find((c) => c.args.ts === ts && allText(c.args.blocks).includes("Resolved as *false positive*")),
      "the resolved message",
    );
    const text = allText(update.args.blocks);
    expect(text).toContain("Resolved as *false positive* by <@U0ALICE> at <!date^");
    expect(text).toContain("*Note:* cron job &lt;!channel&gt; *ok*");
    expect(text).not.toContain("<!channel>");
    expect(buttonsOf(h, uuid, ts)).toEqual([
      expect.objectContaining({ action_id: ACTIONS.reopen, value: uuid }),
      expect.objectContaining({ action_id: ACTIONS.tune, value: uuid }),
      expect.objectContaining({ action_id: ACTIONS.expand }),
      expect.objectContaining({ action_id: ACTIONS.report }),
      expect.objectContaining({ action_id: ACTIONS.silence }),
    ]);
    const reply = await waitFor(
      () => threadReplies(h, CHANNEL, ts).find((t) => t.includes("resolved it as")),
      "the thread log reply",
    );
    expect(reply).toMatch(
      /^<@U0ALICE> resolved it as \*false positive\*: cron job &lt;!channel&gt; \*ok\* at <!date\^/,
    );

    const alert = await alertJson(h, uuid);
    expect(alert.state).toBe("resolved");
    expect(alert.resolution).toMatchObject({
      verdict: "false_positive",
      note: "cron job <!channel> *ok*",
      by: "U0ALICE",
    });
    expect(Date.parse(alert.resolution.at)).not.toBeNaN();

    const { responseUrl } = await h.command(uuid.slice(0, 13), "U0BOB");
    const lookup = await waitFor(() => h.slack!.responses.find((r) => r.url === responseUrl), "the lookup");
    expect(allText(lookup.body.blocks)).toContain("*State:* resolved");
    expect(allText(lookup.body.blocks)).toContain("*Resolved:* *false positive* by <@U0ALICE> at");
    expect(allText(lookup.body.blocks)).toContain("*Note:* cron job &lt;!channel&gt;");

    const md = await (await fetch(`${h.base}/alerts/${uuid}/report`)).text();
    expect(md).toContain("## Outcome\n\n- **Verdict:** false positive\n- **Resolved by:** `U0ALICE` at `");
    expect(md).toContain("Their note:\n\n```\ncron job <!channel> *ok*\n```");
    const html = await (
      await fetch(`${h.base}/alerts/${uuid}/report`, { headers: { accept: "text/html" } })
    ).text();
    expect(html).toContain("<li><strong>Verdict:</strong> false positive</li>");
    expect(html).toContain("<pre><code>cron job &lt;!channel&gt; *ok*</code></pre>");

    const after = await metricsText(h);
    expect(metricValue(after, verdictLine) - metricValue(before, verdictLine)).toBe(1);
    expect(metricValue(after, resolveCount) - metricValue(before, resolveCount)).toBe(1);
    expect(after).toContain("# TYPE falco_chatops_time_to_acknowledge_seconds histogram");
  });

  it("shows errors in the modal for a missing verdict or a note too long, and changes nothing", async () => {
    const uuid = "5e501e00-0000-4000-8000-000000000002";
    const ts = await posted(h, withUuid(shell, uuid), uuid);
    await openResolveModal(h, uuid, "U0CAROL", ts);
    const updates = h.slack!.callsOf("chat.update").length;

    const empty = await h.slack!.submitView("U0CAROL", form(null, "looked at it"));
    expect(empty).toEqual({
      status: 200,
      action: "errors",
      errors: { [RESOLVE_MODAL.verdictBlock]: "Choose a verdict: how did this alert end?" },
    });
    const long = await h.slack!.submitView("U0CAROL", form("duplicate", "x".repeat(NOTE_MAX_CHARS + 1)));
    expect(long).toEqual({
      status: 200,
      action: "errors",
      errors: { [RESOLVE_MODAL.noteBlock]: "The note is 1,001 characters; keep it to 1,000." },
    });
    // The modal stays open with the errors beside the inputs; the alert is untouched.
    expect(h.slack!.openModal("U0CAROL")?.errors).toEqual(long.action === "errors" ? long.errors : null);
    const alert = await alertJson(h, uuid);
    expect(alert.state).toBe("new");
    expect(alert.resolution).toBeNull();
    expect(h.slack!.callsOf("chat.update").length).toBe(updates);

    // Corrected, the same modal resolves it.
    expect(await h.slack!.submitView("U0CAROL", form("duplicate"))).toMatchObject({ action: "closed" });
    await waitFor(async () => (await alertJson(h, uuid)).resolution?.verdict === "duplicate", "resolved");
    // Duplicate invites no tuning.
    await waitFor(() => buttonsOf(h, uuid, ts)[0]?.action_id === ACTIONS.reopen, "the Reopen button");
    expect(buttonsOf(h, uuid, ts).map((b) => b.action_id)).toEqual([
      ACTIONS.reopen,
      ACTIONS.expand,
      ACTIONS.report,
      ACTIONS.silence,
    ]);
  });

  it("lets exactly one of two simultaneous resolutions win; the other is told privately", async () => {
    const uuid = "5e501e00-0000-4000-8000-000000000003";
    const ts = await posted(h, withUuid(memfd, uuid), uuid);
    await openResolveModal(h, uuid, "U0DAVE", ts);
    await openResolveModal(h, uuid, "U0ERIN", ts);
    const outcomes = await Promise.all([
      h.slack!.submitView("U0DAVE", form("true_positive", "real")),
      h.slack!.submitView("U0ERIN", form("expected_activity", "deploy")),
    ]);
    expect(outcomes.map((o) => o.action)).toEqual(["closed", "closed"]);
    const winner = await waitFor(async () => (await alertJson(h, uuid)).resolution?.by as string, "resolved");
    const loser = winner === "U0DAVE" ? "U0ERIN" : "U0DAVE";
    const told = await waitFor(
      () => h.slack!.callsOf("chat.postEphemeral").find((c) => c.args.user === loser),
      "the loser told",
    );
    expect(told.args.channel).toBe(CHANNEL);
    expect(String(told.args.text)).toContain(`<@${winner}> resolved this alert as *`);
    expect(String(told.args.text)).toContain("your verdict was not recorded");
    const resolvedUpdates = h
      .slack!.callsOf("chat.update")
      .filter((c) => c.args.ts === ts && allText(c.args.blocks).includes("Resolved as"));
    expect(resolvedUpdates).toHaveLength(1);
    expect(allText(resolvedUpdates[0]!.args.blocks)).toContain(`by <@${winner}>`);
    await waitFor(() => threadReplies(h, CHANNEL, ts).some((t) => t.includes("resolved it as")), "the reply");
    // A moment for a second reply, were there one.
    await new Promise((r) => setTimeout(r, 300));
    expect(threadReplies(h, CHANNEL, ts).filter((t) => t.includes("resolved it as"))).toHaveLength(1);
  });

  it("reopens back to the state before, logs it in the thread, and says so when it is not resolved", async () => {
    const uuid = "5e501e00-0000-4000-8000-000000000004";
    const ts = await posted(h, withUuid(shell, uuid), uuid);
    const ackCount = /^falco_chatops_time_to_acknowledge_seconds_count\{priority="Notice"\}/;
    const before = metricValue(await metricsText(h), ackCount);
    await h.click(ACTIONS.acknowledge, uuid, "U0FRANK", ts);
    await waitFor(async () => (await alertJson(h, uuid)).state === "acknowledged", "acknowledged");
    await waitFor(
      async () => metricValue(await metricsText(h), ackCount) === before + 1,
      "the time to acknowledge",
    );
    await openResolveModal(h, uuid, "U0FRANK", ts);
    await h.slack!.submitView("U0FRANK", form("true_positive"));
    await waitFor(() => buttonsOf(h, uuid, ts)[0]?.action_id === ACTIONS.reopen, "the Reopen button");

    await h.click(ACTIONS.reopen, uuid, "U0GRACE", ts);
    await waitFor(() => buttonsOf(h, uuid, ts)[0]?.action_id === ACTIONS.escalate, "the reopened message");
    expect(buttonsOf(h, uuid, ts).map((b) => b.action_id)).toEqual([
      ACTIONS.escalate,
      ACTIONS.resolve,
      ACTIONS.expand,
      ACTIONS.report,
      ACTIONS.take,
      ACTIONS.assign,
      ACTIONS.silence,
    ]);
    const alert = await alertJson(h, uuid);
    expect(alert).toMatchObject({ state: "acknowledged", acknowledgedBy: "U0FRANK", resolution: null });
    const reply = await waitFor(
      () => threadReplies(h, CHANNEL, ts).find((t) => t.includes("reopened it")),
      "the reopen in the thread",
    );
    expect(reply).toMatch(/^<@U0GRACE> reopened it \(it was resolved as \*true positive\*\) at /);

    await h.click(ACTIONS.reopen, uuid, "U0HEIDI", ts);
    const told = await waitFor(
      () => h.slack!.callsOf("chat.postEphemeral").find((c) => c.args.user === "U0HEIDI"),
      "told it is not resolved",
    );
    expect(told.args.text).toBe("This alert is not resolved (someone reopened it already).");
  });

  it("logs an expired trigger id and tells the person privately; no modal opens", async () => {
    const uuid = "5e501e00-0000-4000-8000-000000000005";
    const ts = await posted(h, withUuid(shell, uuid), uuid);
    h.slack!.script("views.open", { error: "expired_trigger_id" });
    await h.click(ACTIONS.resolve, uuid, "U0IVAN", ts);
    const told = await waitFor(
      () => h.slack!.callsOf("chat.postEphemeral").find((c) => c.args.user === "U0IVAN"),
      "told privately",
    );
    expect(told.args.channel).toBe(CHANNEL);
    expect(String(told.args.text)).toContain("the click took too long to answer");
    expect(h.slack!.openModal("U0IVAN")).toBeUndefined();
    const line = logLines
      .map((l) => JSON.parse(l) as Json)
      .find((l) => l.slackError === "expired_trigger_id");
    expect(line).toMatchObject({ msg: "Slack did not open a modal", user: "U0IVAN" });
    expect((await alertJson(h, uuid)).state).toBe("new");
  });
});

describe("an occurrence after resolution", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("resolve-again", { env: { GROUP_WINDOW_SECONDS: "600" } });
  });
  afterAll(async () => {
    await h.stop();
  });

  it("starts a new message that links to the resolved one", async () => {
    const first = "5e501e00-0000-4000-8000-000000000010";
    const ts = await posted(h, withUuid(memfd, first), first);
    await openResolveModal(h, first, "U0ALICE", ts);
    await h.slack!.submitView("U0ALICE", form("expected_activity", "load test"));
    await waitFor(async () => (await alertJson(h, first)).state === "resolved", "resolved");

    const again = "5e501e00-0000-4000-8000-000000000011";
    const newTs = await posted(h, withUuid(memfd, again), again);
    expect(newTs).not.toBe(ts);
    const post = h
      .slack!.callsOf("chat.postMessage")
      .find((c) => c.args.thread_ts === undefined && allText(c.args.blocks).includes(again))!;
    const text = allText(post.args.blocks);
    expect(text).toContain(
      "The previous occurrence was resolved as *expected activity* by <@U0ALICE> at <!date^",
    );
    expect(text).toContain(
      `<https://example.slack.com/archives/${CHANNEL}/p${ts.replace(".", "")}|Open its message>`,
    );
    const alert = await alertJson(h, again);
    expect(alert).toMatchObject({ state: "new", previousOccurrence: first, group: { first: again } });
    // The resolved message counts only its own occurrences.
    expect((await alertJson(h, first)).group.occurrences).toBe(1);
  });
});

describe("Resolve and Reopen with SLACK_ALLOWED_RESPONDERS", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("resolve-responders", { env: { SLACK_ALLOWED_RESPONDERS: "U0LEAD" } });
  });
  afterAll(async () => {
    await h.stop();
  });

  it("refuses others privately at the button and again at the submission, changing nothing", async () => {
    const uuid = "5e501e00-0000-4000-8000-000000000020";
    const ts = await posted(h, withUuid(shell, uuid), uuid);
    await h.click(ACTIONS.resolve, uuid, "U0STRANGER", ts);
    const refusal = await waitFor(
      () => h.slack!.callsOf("chat.postEphemeral").find((c) => c.args.user === "U0STRANGER"),
      "the refusal",
    );
    expect(String(refusal.args.text)).toContain("SLACK_ALLOWED_RESPONDERS");
    expect(h.slack!.openModal("U0STRANGER")).toBeUndefined();

    // A modal opened before the list changed: the submission is checked too.
    const bot = new WebClient(BOT_TOKEN, { slackApiUrl: h.slack!.apiUrl });
    const parsed = parseAlertBody(withUuid(shell, uuid), "json");
    if (!parsed.ok) throw new Error("example alert does not parse");
    await bot.views.open({
      trigger_id: h.slack!.triggerFor("U0STRANGER"),
      view: renderResolveModal(parsed.alerts[0]!, { uuid, channel: CHANNEL, ts }),
    });
    const outcome = await h.slack!.submitView("U0STRANGER", form("false_positive"));
    expect(outcome).toMatchObject({ action: "errors" });
    expect(outcome.action === "errors" && outcome.errors[RESOLVE_MODAL.verdictBlock]).toContain(
      "SLACK_ALLOWED_RESPONDERS",
    );
    expect((await alertJson(h, uuid)).resolution).toBeNull();

    await openResolveModal(h, uuid, "U0LEAD", ts);
    await h.slack!.submitView("U0LEAD", form("true_positive"));
    await waitFor(async () => (await alertJson(h, uuid)).state === "resolved", "resolved by the lead");

    await h.click(ACTIONS.reopen, uuid, "U0STRANGER", ts);
    await waitFor(
      () =>
        h
          .slack!.callsOf("chat.postEphemeral")
          .filter((c) => c.args.user === "U0STRANGER" && String(c.args.text).includes("can reopen")).length,
      "the reopen refusal",
    );
    expect((await alertJson(h, uuid)).state).toBe("resolved");
  });
});

describe("the thread log's ROUTES_FILE switch", () => {
  let h: Harness;
  const QUIET = "C0QUIET";
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "falco-chatops-routes-"));
    const file = join(dir, "routes.yaml");
    writeFileSync(
      file,
      `routes:\n  - when: { rule: "Terminal shell in container" }\n    channel: ${QUIET}\n    threadLog: false\n`,
    );
    h = await startHarness("thread-log", { env: { ROUTES_FILE: file } });
  });
  afterAll(async () => {
    await h.stop();
  });

  /** A click on a message in another channel than the harness's own. */
  const clickIn = (channel: string, actionId: string, uuid: string, user: string, ts: string) => {
    const body = blockActionsBody({
      actionId,
      value: uuid,
      userId: user,
      channel,
      messageTs: ts,
      responseUrl: h.slack!.responseUrl(channel, user),
      triggerId: h.slack!.triggerFor(user),
    });
    return fetch(`${h.base}/slack/events`, {
      method: "POST",
      headers: signedHeaders(SIGNING_SECRET, body),
      body,
    });
  };

  it("records state changes in the thread by default, and not for a route with threadLog: false", async () => {
    const loud = "5e501e00-0000-4000-8000-000000000030";
    const quiet = "5e501e00-0000-4000-8000-000000000031";
    const loudTs = await posted(h, withUuid(memfd, loud), loud);
    const quietTs = await posted(h, withUuid(shell, quiet), quiet);
    expect((await alertJson(h, quiet)).slack.channel).toBe(QUIET);

    await clickIn(QUIET, ACTIONS.acknowledge, quiet, "U0ALICE", quietTs);
    await clickIn(QUIET, ACTIONS.resolve, quiet, "U0ALICE", quietTs);
    await waitFor(() => h.slack!.openModal("U0ALICE"), "the modal");
    await h.slack!.submitView("U0ALICE", form("expected_activity", "admin"));
    await waitFor(
      () =>
        h
          .slack!.callsOf("chat.update")
          .find((c) => c.args.channel === QUIET && allText(c.args.blocks).includes("Resolved as")),
      "the quiet message resolved",
    );

    await h.click(ACTIONS.acknowledge, loud, "U0BOB", loudTs);
    await waitFor(() => threadReplies(h, CHANNEL, loudTs).length === 1, "the default channel's reply");
    expect(threadReplies(h, CHANNEL, loudTs)[0]).toMatch(/^<@U0BOB> acknowledged at /);
    expect(threadReplies(h, QUIET, quietTs)).toEqual([]);
  });
});
