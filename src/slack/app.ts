import { App, ExpressReceiver } from "@slack/bolt";
import type express from "express";
import type { Logger } from "pino";
import type { SlackConfig } from "../config/config.js";
import { WebClient } from "@slack/web-api";
import { classifySlackError, slackClientOptions, slackLogger } from "./client.js";
import type { ListenerDeps } from "./listeners/deps.js";
import { register as registerActions } from "./listeners/actions/index.js";
import { register as registerCommands } from "./listeners/commands/index.js";
import { register as registerEvents } from "./listeners/events/index.js";
import { register as registerResolutionActions } from "./listeners/actions/resolution.js";
import { register as registerResolutionView } from "./listeners/views/resolution.js";
import { register as registerSilences } from "./listeners/silence/index.js";
import { register as registerTuning } from "./listeners/tuning/index.js";
import { register as registerRollups } from "./listeners/rollup/index.js";

/** Slack's replay window: a signed request older or newer than this is refused. */
export const SLACK_TIMESTAMP_WINDOW_SECONDS = 300;

/**
 * Bolt refuses stale requests but accepts timestamps in the future; a captured request signed with
 * a future timestamp could then be replayed for as long as that lies ahead. This refuses both.
 */
export function slackTimestampGuard(now: () => number = Date.now): express.RequestHandler {
  return (req, res, next) => {
    if (req.method !== "POST") return next();
    const header = req.get("x-slack-request-timestamp");
    const ts = header && /^\d{1,12}$/.test(header) ? Number(header) : NaN;
    if (Number.isNaN(ts) || Math.abs(now() / 1000 - ts) > SLACK_TIMESTAMP_WINDOW_SECONDS) {
      res.status(401).json({
        error: `x-slack-request-timestamp must be within ${SLACK_TIMESTAMP_WINDOW_SECONDS} s of the server's clock`,
      });
      return;
    }
    next();
  };
}

/** The bot's ids, which Bolt would otherwise look up with auth.test. */
export interface BotIdentity {
  botId: string;
  botUserId: string;
}

/**
 * Checks SLACK_BOT_TOKEN once at start-up and learns the bot's ids. Never throws: with Slack
 * unreachable or the token refused, it logs what to fix and returns null, and the app keeps
 * accepting alerts (Bolt then checks the token on each interaction instead of once).
 */
export async function verifySlackToken(config: SlackConfig, log: Logger): Promise<BotIdentity | null> {
  // One quick try: start-up must not wait on a Slack that does not answer.
  const client = new WebClient(config.botToken, {
    ...slackClientOptions(config.apiUrl, log),
    retryConfig: { retries: 0 },
    timeout: 5000,
  });
  try {
    const result = await client.auth.test();
    if (result.bot_id && result.user_id) return { botId: result.bot_id, botUserId: result.user_id };
    log.warn("Slack's auth.test named no bot: is SLACK_BOT_TOKEN a bot token (xoxb-) of this app?");
  } catch (error) {
    const info = classifySlackError(error);
    log.error(
      { slackError: info.code },
      info.hint
        ? `Slack refused SLACK_BOT_TOKEN at start-up: ${info.hint}`
        : `Slack's API at SLACK_API_URL could not be reached at start-up (${info.code}); alerts are still accepted and posted once it answers`,
    );
  }
  return null;
}

export interface SlackAppOptions {
  config: SlackConfig;
  /** The server's HTTP app, which takes Slack's requests at POST /slack/events (unless Socket Mode). */
  httpApp: express.Express;
  /** What the action and command listeners work with. */
  listeners: ListenerDeps;
  /** The bot's ids from the start-up check of its token; null if Slack did not answer it. */
  identity?: BotIdentity | null;
  log: Logger;
}

/**
 * The Bolt app. Over HTTP, Slack's requests arrive at POST /slack/events on the same server as
 * ingest (Bolt verifies their signatures); with SLACK_APP_TOKEN they arrive over Socket Mode.
 */
export function createSlackApp({ config, httpApp, listeners, identity = null, log }: SlackAppOptions): App {
  const common = {
    token: config.botToken,
    // Known ids spare Bolt its own auth.test; without them it asks on each interaction rather than
    // once in the constructor, whose rejection would be unhandled and cached for good.
    ...(identity ? identity : { tokenVerificationEnabled: false }),
    clientOptions: slackClientOptions(config.apiUrl, log),
    logger: slackLogger(log),
  };
  if (!config.appToken) httpApp.use("/slack/events", slackTimestampGuard());
  const app = config.appToken
    ? new App({ ...common, appToken: config.appToken, socketMode: true })
    : new App({
        ...common,
        receiver: new ExpressReceiver({
          signingSecret: config.signingSecret,
          app: httpApp,
          endpoints: "/slack/events",
          logger: common.logger,
        }),
      });
  registerActions(app, listeners);
  registerCommands(app, listeners);
  registerEvents(app, listeners);
  registerResolutionActions(app, listeners);
  registerResolutionView(app, listeners);
  registerSilences(app, listeners);
  registerTuning(app, listeners);
  registerRollups(app, listeners);
  app.error(async (error) => {
    log.error({ err: error }, "Slack listener error");
  });
  return app;
}
