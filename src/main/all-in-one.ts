import type { Config } from "../config/config.js";
import { previewSlackConfig, previewWorkspace } from "../preview/local-slack.js";
import { startWeb, startWorker } from "./compose.js";
import { boot, closeOnSignals, previewBanner } from "./process.js";
import { chooseRedis } from "./redis-bootstrap.js";

/**
 * `npm start`: web and worker in one process, with a private Redis when none is configured or
 * running. Without a Slack token it runs against a local workspace in this process (preview mode):
 * the same posting, buttons and commands, shown at /preview and echoed to the terminal.
 */
const { config, log, kb } = boot();
try {
  const redis = await chooseRedis(config.redisUrl, log);
  const local = config.slack ? null : previewWorkspace();
  await local?.start();
  const effective: Config = local ? { ...config, slack: previewSlackConfig(local) } : config;
  const web = await startWeb({ config: effective, redisUrl: redis.url, kb, log, local });
  const worker = await startWorker({
    config: effective,
    redisUrl: redis.url,
    kb,
    log,
    localWorkspace: local !== null,
  });
  if (local) process.stdout.write(previewBanner(config, web.port) + "\n");
  else if (!config.ingestToken)
    log.warn("INGEST_TOKEN is not set: anyone who can reach this port can post alerts to your Slack channel");
  closeOnSignals(log, [web, worker, { close: async () => local?.stop() }], () => redis.stop());
} catch (error) {
  log.fatal({ err: error }, (error as Error).message);
  process.exit(1);
}
