import { type Logger as SlackLogger, LogLevel, WebClient, type WebClientOptions } from "@slack/web-api";
import type { Logger } from "pino";

/**
 * Options for every Slack WebClient we create. The client's default retry policy can sleep for
 * 30 minutes on a 429, stalling a worker; instead rate-limited calls are rejected at once and the
 * job is delayed through BullMQ, and other failures get two quick retries before BullMQ's backoff.
 */
export function slackClientOptions(apiUrl: string, logger: Logger): WebClientOptions {
  return {
    slackApiUrl: apiUrl.endsWith("/") ? apiUrl : `${apiUrl}/`,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 2000 },
    timeout: 10_000,
    logger: slackLogger(logger),
  };
}

export function createSlackClient(token: string, apiUrl: string, logger: Logger): WebClient {
  return new WebClient(token, slackClientOptions(apiUrl, logger));
}

/** Bolt's and the WebClient's logger interface, backed by pino. */
export function slackLogger(logger: Logger): SlackLogger {
  let level = LogLevel.INFO;
  const log = logger.child({ component: "slack" });
  return {
    // The SDK's debug lines dump whole request bodies (alert text included): trace, not debug.
    debug: (...msg: unknown[]) => log.trace(msg.map(String).join(" ")),
    info: (...msg: unknown[]) => log.info(msg.map(String).join(" ")),
    warn: (...msg: unknown[]) => log.warn(msg.map(String).join(" ")),
    error: (...msg: unknown[]) => log.error(msg.map(String).join(" ")),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

/** Slack errors worth no retry: the fix is in the configuration, not in time. */
export const PERMANENT_SLACK_ERRORS: Record<string, string> = {
  channel_not_found: "SLACK_CHANNEL is not a channel the bot can see: check the id (not the #name).",
  not_in_channel: "The bot is not in the channel: run /invite @<bot name> there.",
  is_archived: "The channel is archived: unarchive it or change SLACK_CHANNEL.",
  invalid_auth: "SLACK_BOT_TOKEN is not valid: reinstall the app and copy the Bot User OAuth Token.",
  not_authed: "No token was sent: set SLACK_BOT_TOKEN.",
  account_inactive: "The token belongs to a deleted user or uninstalled app: reinstall the app.",
  token_revoked: "The token was revoked: reinstall the app.",
  token_expired: "The token expired: reinstall the app or turn off token rotation.",
  missing_scope: "The app lacks a scope: add chat:write (see slack-app-manifest.yaml) and reinstall.",
  restricted_action: "A workspace setting stops the bot from posting in this channel.",
  invalid_blocks: "Slack rejected the message layout.",
  msg_too_long: "Slack rejected the message as too long.",
};

export interface SlackErrorInfo {
  kind: "rate_limited" | "permanent" | "transient";
  code: string;
  retryAfterSeconds: number;
  hint: string | null;
}

/** Classifies an error thrown by the WebClient. */
export function classifySlackError(error: unknown): SlackErrorInfo {
  const e = error as { code?: string; retryAfter?: number; data?: { error?: string } };
  if (e?.code === "slack_webapi_rate_limited_error") {
    return {
      kind: "rate_limited",
      code: "ratelimited",
      retryAfterSeconds: Math.max(1, e.retryAfter ?? 1),
      hint: null,
    };
  }
  if (e?.code === "slack_webapi_platform_error") {
    const code = e.data?.error ?? "unknown_error";
    const hint = PERMANENT_SLACK_ERRORS[code];
    if (hint) return { kind: "permanent", code, retryAfterSeconds: 0, hint };
    return { kind: "transient", code, retryAfterSeconds: 0, hint: null };
  }
  const code = e?.code ?? (error instanceof Error ? error.message : String(error));
  return { kind: "transient", code, retryAfterSeconds: 0, hint: null };
}
