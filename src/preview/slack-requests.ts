import { createHmac } from "node:crypto";

/*
 * Requests as Slack sends them to an app's Request URL, signed as Bolt's receiver checks them. The
 * preview page turns its clicks and commands into these and posts them to the app's own
 * /slack/events; the tests send them to drive the same listeners.
 */

/** The workspace the local Slack stands in for: auth.test names it, and its requests come from it. */
export const LOCAL_WORKSPACE = {
  teamId: "T0LOCAL01",
  teamDomain: "example",
  teamName: "Example",
  url: "https://example.slack.com/",
  appId: "A0LOCAL01",
  botId: "B0LOCAL01",
  botUserId: "U0LOCALBOT",
} as const;

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

const triggerId = () => `${Date.now()}.local`;

export interface ButtonClick {
  actionId: string;
  value: string;
  userId: string;
  channel: string;
  messageTs: string;
  responseUrl: string;
  channelName?: string;
  /** The button's label, as Slack repeats it in the payload. */
  buttonText?: string;
}

/** A `block_actions` payload for a button click in a channel message, form-encoded. */
export function blockActionsBody(c: ButtonClick): string {
  const user = c.userId.toLowerCase();
  const payload = {
    type: "block_actions",
    user: { id: c.userId, username: user, name: user, team_id: LOCAL_WORKSPACE.teamId },
    api_app_id: LOCAL_WORKSPACE.appId,
    token: "legacy-verification-token",
    container: { type: "message", message_ts: c.messageTs, channel_id: c.channel, is_ephemeral: false },
    trigger_id: triggerId(),
    team: { id: LOCAL_WORKSPACE.teamId, domain: LOCAL_WORKSPACE.teamDomain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: c.channel, name: c.channelName ?? c.channel.toLowerCase() },
    message: {
      type: "message",
      user: LOCAL_WORKSPACE.botUserId,
      ts: c.messageTs,
      bot_id: LOCAL_WORKSPACE.botId,
      text: "",
      blocks: [],
    },
    state: { values: {} },
    response_url: c.responseUrl,
    actions: [
      {
        action_id: c.actionId,
        block_id: "falco_actions",
        text: { type: "plain_text", text: c.buttonText ?? "button", emoji: true },
        value: c.value,
        type: "button",
        action_ts: `${(Date.now() / 1000).toFixed(6)}`,
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export interface SlashCommand {
  text: string;
  userId: string;
  channel: string;
  responseUrl: string;
  channelName?: string;
}

/** A `/falco` slash command's fields, as Slack sends them (form-encoded, or over Socket Mode). */
export function slashCommandPayload(c: SlashCommand): Record<string, string> {
  return {
    token: "legacy-verification-token",
    team_id: LOCAL_WORKSPACE.teamId,
    team_domain: LOCAL_WORKSPACE.teamDomain,
    channel_id: c.channel,
    channel_name: c.channelName ?? c.channel.toLowerCase(),
    user_id: c.userId,
    user_name: c.userId.toLowerCase(),
    command: "/falco",
    text: c.text,
    api_app_id: LOCAL_WORKSPACE.appId,
    is_enterprise_install: "false",
    response_url: c.responseUrl,
    trigger_id: triggerId(),
  };
}

/** A `/falco` slash command, form-encoded. */
export function slashCommandBody(c: SlashCommand): string {
  return new URLSearchParams(slashCommandPayload(c)).toString();
}
