import express, { type RequestHandler } from "express";
import type { Logger } from "pino";
import { REDIS_DEADLINE_MS, withDeadline } from "../redis/connection.js";
import type { TuningStore } from "../store/tuning-store.js";
import { tuningRulesYaml } from "../tuning/rules-file.js";

/**
 * GET /tuning/falco-rules.yaml: every saved Falco exception as one rules file that Falco loads as it
 * is (after the rules it changes). Behind the same token as /alerts.
 */
export function tuningRoutes(deps: {
  store: TuningStore;
  auth: RequestHandler;
  log: Logger;
}): express.Router {
  const router = express.Router();
  router.get("/tuning/falco-rules.yaml", deps.auth, async (_req, res) => {
    try {
      const exceptions = await withDeadline(deps.store.list(), REDIS_DEADLINE_MS, "reading the exceptions");
      res.type("application/yaml; charset=utf-8").send(tuningRulesYaml(exceptions));
    } catch (error) {
      deps.log.warn({ err: error }, "could not serve the tuning rules file");
      res.set("Retry-After", "5");
      res.status(503).json({ error: `Redis is unavailable (${(error as Error).message})` });
    }
  });
  return router;
}
