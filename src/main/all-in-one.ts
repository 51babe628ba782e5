import { startWeb, startWorker } from "./compose.js";
import { boot, closeOnSignals, previewBanner } from "./process.js";
import { chooseRedis } from "./redis-bootstrap.js";

/** `npm start`: web and worker in one process, with a private Redis when none is configured or running. */
const { config, log, kb } = boot();
try {
  const redis = await chooseRedis(config.redisUrl, log);
  const web = await startWeb(config, redis.url, kb, log);
  const worker = await startWorker(config, redis.url, kb, log);
  if (!config.slack) process.stdout.write(previewBanner(config, web.port) + "\n");
  else if (!config.ingestToken)
    log.warn("INGEST_TOKEN is not set: anyone who can reach this port can post alerts to your Slack channel");
  closeOnSignals(log, [web, worker], () => redis.stop());
} catch (error) {
  log.fatal({ err: error }, (error as Error).message);
  process.exit(1);
}
