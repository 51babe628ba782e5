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
  contentType = "application/x-www-form-urlencoded",
): Record<string, string> {
  return {
    "content-type": contentType,
    "x-slack-request-timestamp": String(timestamp),
    "x-slack-signature": "v0=" + createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex"),
  };
}

/** A trigger id of the kind a local Slack that did not issue it refuses (as Slack refuses a forged one). */
const unissuedTriggerId = () => `${Date.now()}.local`;

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
  /** The trigger id views.open will take (LocalSlack.triggerFor); one it refuses when not given. */
  triggerId?: string;
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
    trigger_id: c.triggerId ?? unissuedTriggerId(),
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
  /** The trigger id views.open will take (LocalSlack.triggerFor); one it refuses when not given. */
  triggerId?: string;
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
    trigger_id: c.triggerId ?? unissuedTriggerId(),
  };
}

/** A `/falco` slash command, form-encoded. */
export function slashCommandBody(c: SlashCommand): string {
  return new URLSearchParams(slashCommandPayload(c)).toString();
}

/** What an input holds in a view's `state.values`, as Slack sends it. */
export type InputState =
  | { type: "plain_text_input"; value: string | null }
  | { type: "static_select" | "radio_buttons"; selected_option: { value: string } | null }
  | { type: "checkboxes"; selected_options: { value: string }[] }
  | { type: "users_select"; selected_user: string | null }
  | { type: "datepicker"; selected_date: string | null };

/** `state.values`: block id → action id → what the input holds. */
export type ViewValues = Record<string, Record<string, InputState>>;

/** A view as Slack describes it in interaction payloads: what the app sent, with Slack's own fields. */
export interface ViewPayload {
  id: string;
  hash: string;
  type: "modal" | "home";
  view: Record<string, unknown>;
  rootViewId: string | null;
  previousViewId: string | null;
}

function viewObject(v: ViewPayload, values: ViewValues): Record<string, unknown> {
  return {
    ...v.view,
    id: v.id,
    team_id: LOCAL_WORKSPACE.teamId,
    type: v.type,
    private_metadata: v.view.private_metadata ?? "",
    callback_id: v.view.callback_id ?? "",
    external_id: v.view.external_id ?? "",
    state: { values },
    hash: v.hash,
    clear_on_close: v.view.clear_on_close ?? false,
    notify_on_close: v.view.notify_on_close ?? false,
    root_view_id: v.rootViewId ?? v.id,
    previous_view_id: v.previousViewId,
    app_id: LOCAL_WORKSPACE.appId,
    bot_id: LOCAL_WORKSPACE.botId,
  };
}

function userObject(userId: string) {
  const name = userId.toLowerCase();
  return { id: userId, username: name, name, team_id: LOCAL_WORKSPACE.teamId };
}

/** A `view_submission` payload: the user pressed a modal's submit button. Form-encoded. */
export function viewSubmissionBody(c: {
  userId: string;
  view: ViewPayload;
  values: ViewValues;
  triggerId: string;
}): string {
  const payload = {
    type: "view_submission",
    team: { id: LOCAL_WORKSPACE.teamId, domain: LOCAL_WORKSPACE.teamDomain },
    user: userObject(c.userId),
    api_app_id: LOCAL_WORKSPACE.appId,
    token: "legacy-verification-token",
    trigger_id: c.triggerId,
    view: viewObject(c.view, c.values),
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** A `block_actions` payload for a button in a modal or on the Home tab. Form-encoded. */
export function viewBlockActionsBody(c: {
  userId: string;
  view: ViewPayload;
  values: ViewValues;
  actionId: string;
  blockId: string;
  value: string;
  buttonText: string;
  triggerId: string;
}): string {
  const payload = {
    type: "block_actions",
    user: userObject(c.userId),
    api_app_id: LOCAL_WORKSPACE.appId,
    token: "legacy-verification-token",
    container: { type: "view", view_id: c.view.id },
    trigger_id: c.triggerId,
    team: { id: LOCAL_WORKSPACE.teamId, domain: LOCAL_WORKSPACE.teamDomain },
    enterprise: null,
    is_enterprise_install: false,
    view: viewObject(c.view, c.values),
    actions: [
      {
        action_id: c.actionId,
        block_id: c.blockId,
        text: { type: "plain_text", text: c.buttonText, emoji: true },
        value: c.value,
        type: "button",
        action_ts: `${(Date.now() / 1000).toFixed(6)}`,
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** The Events API's `app_home_opened`, as JSON (sign it with content type application/json). */
export function appHomeOpenedBody(c: { userId: string; homeViewId?: string }): string {
  const now = Date.now();
  return JSON.stringify({
    token: "legacy-verification-token",
    team_id: LOCAL_WORKSPACE.teamId,
    api_app_id: LOCAL_WORKSPACE.appId,
    event: {
      type: "app_home_opened",
      user: c.userId,
      channel: `D${c.userId.slice(1)}`,
      tab: "home",
      event_ts: (now / 1000).toFixed(6),
      ...(c.homeViewId ? { view: { id: c.homeViewId, type: "home" } } : {}),
    },
    type: "event_callback",
    event_id: `Ev${now.toString(36).toUpperCase()}`,
    event_time: Math.floor(now / 1000),
    authorizations: [
      {
        team_id: LOCAL_WORKSPACE.teamId,
        user_id: LOCAL_WORKSPACE.botUserId,
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
  });
}
