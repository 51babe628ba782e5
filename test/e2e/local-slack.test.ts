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
