import { DEFAULT_REDIS_URL } from "../config/config.js";
import { startWeb } from "./compose.js";
import { boot, closeOnSignals } from "./process.js";

/** Procfile `web`: HTTP ingest, lookups and Slack listeners. Run as many as you like against one Redis. */
const { config, log, kb } = boot();
try {
  const web = await startWeb({ config, redisUrl: config.redisUrl ?? DEFAULT_REDIS_URL, kb, log });
  if (config.slack && !config.ingestToken)
    log.warn("INGEST_TOKEN is not set: anyone who can reach this port can post alerts to your Slack channel");
  closeOnSignals(log, [web]);
} catch (error) {
  log.fatal({ err: error }, (error as Error).message);
  process.exit(1);
}
