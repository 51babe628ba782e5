import { createHmac } from "node:crypto";

/** Headers Slack sends with a request: `v0=` HMAC-SHA256 of `v0:<timestamp>:<raw body>`. */
export function slackSignature(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)) {
  const signature = "v0=" + createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex");
  return {
    "content-type": "application/x-www-form-urlencoded",
    "x-slack-request-timestamp": String(timestamp),
    "x-slack-signature": signature,
  };
}

export interface ClickOptions {
  actionId: string;
  value: string;
  userId: string;
  channel: string;
  messageTs: string;
  responseUrl: string;
}

/** A `block_actions` payload shaped as Slack sends it for a button click in a channel message. */
export function blockActionsBody(o: ClickOptions): string {
  const payload = {
    type: "block_actions",
    user: { id: o.userId, username: o.userId.toLowerCase(), name: o.userId.toLowerCase(), team_id: "T0001" },
    api_app_id: "A0001",
    token: "legacy-verification-token",
    container: { type: "message", message_ts: o.messageTs, channel_id: o.channel, is_ephemeral: false },
    trigger_id: "1234.5678.abcdef",
    team: { id: "T0001", domain: "example" },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: o.channel, name: "falco-alerts" },
    message: { type: "message", user: "U0BOT", ts: o.messageTs, bot_id: "B0001", text: "alert", blocks: [] },
    state: { values: {} },
    response_url: o.responseUrl,
    actions: [
      {
        action_id: o.actionId,
        block_id: "falco_actions",
        text: { type: "plain_text", text: "button", emoji: true },
        value: o.value,
        type: "button",
        action_ts: `${Math.floor(Date.now() / 1000)}.000001`,
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** A slash command as Slack posts it (form-encoded). */
export function slashCommandBody(text: string, userId: string, channel: string, responseUrl: string): string {
  return new URLSearchParams({
    token: "legacy-verification-token",
    team_id: "T0001",
    team_domain: "example",
    channel_id: channel,
    channel_name: "falco-alerts",
    user_id: userId,
    user_name: userId.toLowerCase(),
    command: "/falco",
    text,
    api_app_id: "A0001",
    is_enterprise_install: "false",
    response_url: responseUrl,
    trigger_id: "1234.5678.abcdef",
  }).toString();
}
