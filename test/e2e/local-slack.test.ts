import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { App, ExpressReceiver } from "@slack/bolt";
import { WebClient } from "@slack/web-api";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSlackClient } from "../../src/slack/client.js";
import { LocalSlack } from "../../src/preview/local-slack.js";

/** The local Slack through the app's own WebClient settings: what preview mode and the tests rely on. */
describe("the local Slack workspace", () => {
  const slack = new LocalSlack({ token: "xoxb-local-test" });
  let client: WebClient;
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => null,
      (e: { code?: string; data?: { error?: string; errors?: string[] }; retryAfter?: number }) => e,
    );
  const section = (text: string) => [{ type: "section", text: { type: "mrkdwn", text } }];

  beforeAll(async () => {
    await slack.start();
    client = createSlackClient(slack.token, slack.apiUrl, pino({ level: "silent" }));
  });
  afterAll(() => slack.stop());

  it("refuses a wrong token and blocks Slack would refuse, and keeps what it takes", async () => {
    const stranger = new WebClient("xoxb-someone-else", { slackApiUrl: slack.apiUrl });
    expect((await failure(stranger.auth.test()))?.data?.error).toBe("invalid_auth");

    const refused = await failure(
      client.chat.postMessage({ channel: "C1", text: "x", blocks: section("y".repeat(3001)) }),
    );
    expect(refused?.data?.error).toBe("invalid_blocks");
    expect(refused?.data?.errors).toEqual(["section text must be 1-3000"]);

    const posted = await client.chat.postMessage({ channel: "C1", text: "first", blocks: section("first") });
    await client.chat.update({ channel: "C1", ts: posted.ts!, text: "edited", blocks: section("edited") });
    const [message] = slack.channels.get("C1")!.messages;
    expect(message).toMatchObject({ ts: posted.ts, text: "edited", edits: 1 });
    const gone = await failure(client.chat.update({ channel: "C1", ts: "1.000001", text: "z" }));
    expect(gone?.data?.error).toBe("message_not_found");
  });

  it("answers conversations.history newest first, after `oldest` only", async () => {
    const a = await client.chat.postMessage({ channel: "C2", text: "a" });
    const b = await client.chat.postMessage({ channel: "C2", text: "b" });
    expect((await client.conversations.history({ channel: "C2" })).messages!.map((m) => m.ts)).toEqual([
      b.ts,
      a.ts,
    ]);
    const after = await client.conversations.history({ channel: "C2", oldest: a.ts! });
    expect(after.messages!.map((m) => m.ts)).toEqual([b.ts]);
  });

  it("answers 429 with Retry-After for a scripted answer and under the per-channel limit", async () => {
    slack.script("chat.postMessage", { status: 429, retryAfter: 7, channel: "C3" });
    const other = await client.chat.postMessage({ channel: "C4", text: "passes by the script" });
    expect(other.ok).toBe(true);
    expect((await failure(client.chat.postMessage({ channel: "C3", text: "x" })))?.retryAfter).toBe(7);

    slack.perChannelLimit = true;
    try {
      await client.chat.postMessage({ channel: "C5", text: "one" });
      const second = await failure(client.chat.postMessage({ channel: "C5", text: "two" }));
      expect(second?.code).toBe("slack_webapi_rate_limited_error");
      expect(slack.rateLimited).toBe(1);
    } finally {
      slack.perChannelLimit = false;
    }
  });

  it("shows a response_url answer to the user it was made for, and knows no other response_url", async () => {
    const url = slack.responseUrl("C6", "U0ALICE");
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ response_type: "ephemeral", text: "only you", blocks: section("only you") }),
    });
    expect(await res.json()).toEqual({ ok: true });
    expect(slack.responses).toMatchObject([{ url, channel: "C6", user: "U0ALICE" }]);
    expect(slack.channels.get("C6")!.ephemerals).toMatchObject([{ user: "U0ALICE", text: "only you" }]);
    const forged = await fetch(new URL("/response/0-00000000", url), { method: "POST", body: "{}" });
    expect(forged.status).toBe(404);
  });
});

/** Modals and the Home tab, between the local Slack and a real Bolt app on its real receiver. */
describe("the local Slack workspace's views", () => {
  const slack = new LocalSlack({ token: "xoxb-local-views", triggerLifetimeMs: 200 });
  let client: WebClient;
  let server: Server;
  const received: { type: string; values?: unknown; metadata?: string }[] = [];
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => null,
      (e: { data?: { error?: string; response_metadata?: { messages?: string[] } } }) => e,
    );
  const modal = (callbackId: string, label = "Reason") => ({
    type: "modal" as const,
    callback_id: callbackId,
    private_metadata: "alert-1",
    title: { type: "plain_text" as const, text: "Resolve" },
    submit: { type: "plain_text" as const, text: "Save" },
    blocks: [
      {
        type: "input",
        block_id: "reason",
        label: { type: "plain_text" as const, text: label },
        element: { type: "plain_text_input", action_id: "text" },
      },
    ],
  });

  beforeAll(async () => {
    await slack.start();
    client = createSlackClient(slack.token, slack.apiUrl, pino({ level: "silent" }));
    const receiver = new ExpressReceiver({ signingSecret: slack.signingSecret, endpoints: "/slack/events" });
    const app = new App({
      token: slack.token,
      receiver,
      tokenVerificationEnabled: false,
      clientOptions: { slackApiUrl: slack.apiUrl },
    });
    app.view("resolve", async ({ ack, view }) => {
      const reason = view.state.values.reason?.text?.value ?? "";
      received.push({ type: "view_submission", values: view.state.values, metadata: view.private_metadata });
      if (!reason.trim()) await ack({ response_action: "errors", errors: { reason: "Say why." } });
      else await ack();
    });
    app.action("home_button", async ({ ack, body }) => {
      await ack();
      received.push({ type: `clicked in ${(body as { container?: { type?: string } }).container?.type}` });
    });
    app.event("app_home_opened", async ({ event }) => {
      received.push({ type: `home opened by ${event.user}` });
    });
    server = receiver.app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    slack.requestUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  });
  afterAll(async () => {
    server?.close();
    await slack.stop();
  });

  it("opens a modal once per trigger id, within its lifetime, and only one Slack would take", async () => {
    expect(
      (await failure(client.views.open({ trigger_id: "123.forged", view: modal("resolve") })))?.data?.error,
    ).toBe("invalid_trigger_id");
    const tooLong = await failure(
      client.views.open({
        trigger_id: slack.triggerFor("U0ALICE"),
        view: { ...modal("resolve"), title: { type: "plain_text", text: "x".repeat(25) } },
      }),
    );
    expect(tooLong?.data).toMatchObject({
      error: "invalid_arguments",
      response_metadata: { messages: ["title must be 1-24 characters of plain_text"] },
    });

    const trigger = slack.triggerFor("U0ALICE");
    const opened = await client.views.open({ trigger_id: trigger, view: modal("resolve") });
    expect(opened.view?.id).toBe(slack.openModal("U0ALICE")?.id);
    expect(
      (await failure(client.views.open({ trigger_id: trigger, view: modal("resolve") })))?.data?.error,
    ).toBe("exchanged_trigger_id");

    const late = slack.triggerFor("U0ALICE");
    await new Promise((r) => setTimeout(r, 250));
    expect(
      (await failure(client.views.open({ trigger_id: late, view: modal("resolve") })))?.data?.error,
    ).toBe("expired_trigger_id");

    const stale = await failure(
      client.views.update({ view_id: opened.view!.id!, hash: "1.stale", view: modal("resolve", "Note") }),
    );
    expect(stale?.data?.error).toBe("hash_conflict");
    await client.views.update({
      view_id: opened.view!.id!,
      hash: opened.view!.hash!,
      view: modal("resolve", "Note"),
    });
    expect(slack.openModal("U0ALICE")?.view).toMatchObject({ blocks: [{ label: { text: "Note" } }] });
  });

  it("sends a submission to the app, shows its errors beside the input, and closes on an empty answer", async () => {
    const empty = await slack.submitView("U0ALICE", {
      reason: { text: { type: "plain_text_input", value: " " } },
    });
    expect(empty).toEqual({ status: 200, action: "errors", errors: { reason: "Say why." } });
    expect(slack.openModal("U0ALICE")?.errors).toEqual({ reason: "Say why." });

    const done = await slack.submitView("U0ALICE", {
      reason: { text: { type: "plain_text_input", value: "expected backup job" } },
    });
    expect(done).toEqual({ status: 200, action: "closed" });
    expect(slack.openModal("U0ALICE")).toBeUndefined();
    expect(received.filter((r) => r.type === "view_submission").at(-1)).toEqual({
      type: "view_submission",
      values: { reason: { text: { type: "plain_text_input", value: "expected backup job" } } },
      metadata: "alert-1",
    });
  });

  it("publishes a Home tab, sends app_home_opened and clicks in it to the app", async () => {
    const refused = await failure(client.views.publish({ user_id: "U0BOB", view: modal("resolve") }));
    expect(refused?.data?.error).toBe("invalid_arguments");
    await client.views.publish({
      user_id: "U0BOB",
      view: {
        type: "home",
        blocks: [
          {
            type: "section",
            text: { type: "mrkdwn", text: "Open alerts" },
            accessory: {
              type: "button",
              action_id: "home_button",
              value: "a1",
              text: { type: "plain_text", text: "Open" },
            },
          },
        ],
      },
    });
    const home = slack.homes.get("U0BOB")!;
    expect(await slack.openHome("U0BOB")).toBe(200);
    expect(await slack.clickInView("U0BOB", home.id, { actionId: "home_button", value: "a1" })).toBe(200);
    await expect
      .poll(() => received.map((r) => r.type))
      .toEqual(expect.arrayContaining(["home opened by U0BOB", "clicked in view"]));
  });
});
