import { DEFAULT_REDIS_URL } from "../config/config.js";
import { startWorker } from "./compose.js";
import { boot, closeOnSignals } from "./process.js";

/** Procfile `worker`: BullMQ workers that enrich and post alerts. Run as many as you like. */
const { config, log, kb } = boot();
try {
  const worker = await startWorker({ config, redisUrl: config.redisUrl ?? DEFAULT_REDIS_URL, kb, log });
  closeOnSignals(log, [worker]);
} catch (error) {
  log.fatal({ err: error }, (error as Error).message);
  process.exit(1);
}
