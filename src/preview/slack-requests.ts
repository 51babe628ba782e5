import { createHmac } from "node:crypto";

/*
 * Requests as Slack sends them to an app's Request URL, for preview mode: the page's clicks and
 * commands are turned into these, signed with the local workspace's secret, and posted to the app's
 * own /slack/events, where Bolt verifies and dispatches them like any others.
 */

const TEAM = { id: "TPREVIEW01", domain: "local-preview" };

/** Slack's signature headers: `v0=` HMAC-SHA256 of `v0:<timestamp>:<raw body>`. */
export function signedHeaders(
  secret: string,
  body: string,
  timestamp = Math.floor(Date.now() / 1000),
): Record<string, string> {
  return {
    "content-type": "application/x-www-form-urlencoded",
    "x-slack-request-timestamp": String(timestamp),
    "x-slack-signature": "v0=" + createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex"),
  };
}

export interface PreviewClick {
  actionId: string;
  value: string;
  userId: string;
  channel: string;
  channelName: string;
  messageTs: string;
  responseUrl: string;
  buttonText: string;
}

/** A `block_actions` payload for a button click in a channel message, form-encoded. */
export function blockActionsBody(c: PreviewClick): string {
  const payload = {
    type: "block_actions",
    user: { id: c.userId, username: "you", name: "you", team_id: TEAM.id },
    api_app_id: "APREVIEW01",
    token: "preview",
    container: { type: "message", message_ts: c.messageTs, channel_id: c.channel, is_ephemeral: false },
    trigger_id: `${Date.now()}.preview`,
    team: TEAM,
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: c.channel, name: c.channelName },
    message: {
      type: "message",
      user: "UPREVIEWBOT",
      ts: c.messageTs,
      bot_id: "BPREVIEW01",
      text: "",
      blocks: [],
    },
    state: { values: {} },
    response_url: c.responseUrl,
    actions: [
      {
        action_id: c.actionId,
        block_id: "falco_actions",
        text: { type: "plain_text", text: c.buttonText, emoji: true },
        value: c.value,
        type: "button",
        action_ts: `${(Date.now() / 1000).toFixed(6)}`,
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** A `/falco` slash command, form-encoded. */
export function slashCommandBody(
  text: string,
  userId: string,
  channel: string,
  channelName: string,
  responseUrl: string,
): string {
  return new URLSearchParams({
    token: "preview",
    team_id: TEAM.id,
    team_domain: TEAM.domain,
    channel_id: channel,
    channel_name: channelName,
    user_id: userId,
    user_name: "you",
    command: "/falco",
    text,
    api_app_id: "APREVIEW01",
    is_enterprise_install: "false",
    response_url: responseUrl,
    trigger_id: `${Date.now()}.preview`,
  }).toString();
}
