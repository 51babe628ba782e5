import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalSlack } from "../../src/preview/local-slack.js";
import { appHomeOpenedBody, slashCommandPayload } from "../../src/preview/slack-requests.js";
import { exited, type Proc, ROOT, run } from "../../support/processes.js";
import { dropPrefix, TEST_REDIS_URL, uniquePrefix, waitFor } from "../../support/redis.js";

const memfd = readFileSync(resolve(ROOT, "examples/memfd-create.json"), "utf8");

/** SLACK_APP_TOKEN: Slack's requests arrive over a Socket Mode connection the app opens itself. */
describe("Socket Mode (SLACK_APP_TOKEN), the web process against a fake Slack", () => {
  const appToken = "xapp-1-test-app-token";
  const slack = new LocalSlack({ token: "xoxb-socket", appToken });
  const prefix = uniquePrefix("socket");
  let web: Proc;

  beforeAll(async () => {
    await slack.start();
    web = run("main/web.js", {
      PORT: "0",
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      SLACK_BOT_TOKEN: "xoxb-socket",
      SLACK_SIGNING_SECRET: "socket-signing-secret-123",
      SLACK_APP_TOKEN: appToken,
      SLACK_CHANNEL: "C0SOCKET",
      SLACK_API_URL: slack.apiUrl,
    });
    await waitFor(() => web.port(), "the web process");
  });
  afterAll(async () => {
    web.child.kill("SIGTERM");
    await exited(web.child);
    await slack.stop();
    await dropPrefix(prefix);
  });

  it("opens its connection through SLACK_API_URL and answers /falco sent over it", async () => {
    await slack.socketConnected();
    expect(slack.callsOf("apps.connections.open").map((c) => c.token)).toEqual([appToken]);
    // Over Socket Mode there is no request URL for Slack: the web process does not serve one.
    expect(web.out.join("")).not.toContain("POST /slack/events");

    const uuid = "50c4e700-0000-4000-8000-000000000001";
    const posted = await fetch(`http://127.0.0.1:${web.port()}/falco`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...JSON.parse(memfd), uuid }),
    });
    expect(posted.status).toBe(202);

    const responseUrl = slack.responseUrl("C0SOCKET", "U0ALICE");
    const ack = await slack.sendEnvelope(
      "slash_commands",
      slashCommandPayload({ text: uuid, userId: "U0ALICE", channel: "C0SOCKET", responseUrl }),
    );
    expect(ack.envelope_id).toMatch(/^envelope-/);
    await waitFor(() => slack.responses.length > 0, "the answer through response_url");
    const answer = slack.responses[0]!;
    expect(answer.url).toBe(responseUrl);
    expect(answer.body.response_type).toBe("ephemeral");
    const text = JSON.stringify(answer.body.blocks);
    expect(text).toContain("Fileless execution via memfd_create");
    expect(text).toContain(uuid);
  });

  it("publishes the Home tab for an app_home_opened event sent over the connection", async () => {
    await slack.socketConnected();
    const ack = await slack.sendEnvelope(
      "events_api",
      JSON.parse(appHomeOpenedBody({ userId: "U0BOB" })) as Record<string, unknown>,
    );
    expect(ack.envelope_id).toMatch(/^envelope-/);
    await waitFor(() => slack.homes.get("U0BOB"), "the published Home tab");
    expect(JSON.stringify(slack.homes.get("U0BOB")!.view)).toContain("50c4e700");
  });
});
