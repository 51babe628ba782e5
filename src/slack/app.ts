import { App, ExpressReceiver } from "@slack/bolt";
import type express from "express";
import type { Logger } from "pino";
import type { SlackConfig } from "../config/config.js";
import { slackClientOptions, slackLogger } from "./client.js";
import type { ListenerDeps } from "./listeners/deps.js";
import { register as registerActions } from "./listeners/actions/index.js";
import { register as registerCommands } from "./listeners/commands/index.js";

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
