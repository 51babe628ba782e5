import { App, ExpressReceiver } from "@slack/bolt";
import type express from "express";
import type { Logger } from "pino";
import type { SlackConfig } from "../config/config.js";
import { slackClientOptions, slackLogger } from "./client.js";
import type { ListenerDeps } from "./listeners/deps.js";
import { register as registerActions } from "./listeners/actions/index.js";
import { register as registerCommands } from "./listeners/commands/index.js";

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

/**
 * The Bolt app. Over HTTP, Slack's requests arrive at POST /slack/events on the same server as
 * ingest (Bolt verifies their signatures); with SLACK_APP_TOKEN they arrive over Socket Mode.
 */
export function createSlackApp(
  config: SlackConfig,
  httpApp: express.Express,
  deps: ListenerDeps,
  log: Logger,
): App {
  const common = {
    token: config.botToken,
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
  registerActions(app, deps);
  registerCommands(app, deps);
  app.error(async (error) => {
    log.error({ err: error }, "Slack listener error");
  });
  return app;
}
