import express, { type RequestHandler } from "express";
import type { Logger } from "pino";
import type { HealthListing } from "../health/listing.js";
import { countByState } from "../health/state.js";
import { REDIS_DEADLINE_MS, withDeadline } from "../redis/connection.js";

/**
 * GET /health/falco: every Falco host with its health state (silent, dropping, healthy), what
 * `/falco health` shows, as JSON. Behind the same token as /alerts. (GET /healthz and /readyz are
 * this app's own health; this is Falco's.)
 */
export function healthRoutes(deps: {
  listing: HealthListing;
  auth: RequestHandler;
  log: Logger;
}): express.Router {
  const router = express.Router();
  router.get("/health/falco", deps.auth, async (_req, res) => {
    try {
      const hosts = await withDeadline(deps.listing.hosts(), REDIS_DEADLINE_MS, "reading Falco's health");
      const options = deps.listing.options();
      res.json({
        heartbeatMissingSeconds: options.heartbeatMissingSeconds,
        counts: countByState(hosts),
        hosts,
      });
    } catch (error) {
      deps.log.warn({ err: error }, "could not read Falco's health");
      res.set("Retry-After", "5");
      res.status(503).json({ error: `Redis is unavailable (${(error as Error).message})` });
    }
  });
  return router;
}
