import express, { type NextFunction, type Request, type Response } from "express";
import type { Logger } from "pino";
import { enrich } from "../enrich/enrich.js";
import { reportHtml } from "../report/html.js";
import { reportMarkdown } from "../report/markdown.js";
import { buildReport } from "../report/report.js";
import { partialVisibilityNote, type VisibilityLookup } from "../health/visibility.js";
import type { KnowledgeBase } from "../enrich/knowledge.js";
import { stringifyLossless } from "../falco/json.js";
import { groupsOpen, queueJobs, register } from "../metrics.js";
import { deliveryQueueName } from "../queue/names.js";
import { routingChannels } from "../route/routes.js";
import type { Intake } from "./accept.js";
import { REDIS_DEADLINE_MS, type RedisClient, withDeadline } from "../redis/connection.js";
import { type AlertStore, type GroupInfo, type StoredAlert, stateOf } from "../store/alert-store.js";
import { getFollowingCopy } from "../store/copies.js";
import type { RollupInfo, RollupStore } from "../store/rollups.js";
import { AUTH_CHALLENGE, tokenProblem } from "./auth.js";

export interface HttpDeps {
  store: AlertStore;
  /** Fleet roll-ups: GET /rollups/:id, and the roll-up an alert's group is in. */
  rollups: RollupStore;
  intake: Intake;
  /** The producer's Redis connection, pinged by /readyz. */
  redis: RedisClient;
  kb: KnowledgeBase;
  ingestToken: string | undefined;
  log: Logger;
  /** The events an alert's host dropped around it, which its report mentions. */
  visibility?: VisibilityLookup;
}

/** Reads queue sizes and open groups into their gauges, at scrape time. */
async function refreshQueueMetrics(deps: HttpDeps): Promise<void> {
  const { queues, routing } = deps.intake;
  await Promise.all(
    routingChannels(routing).map(async (channel) => {
      const counts = await queues
        .queue(channel)
        .getJobCounts("waiting", "prioritized", "delayed", "active", "failed");
      const name = deliveryQueueName(channel);
      queueJobs.set({ queue: name, state: "waiting" }, (counts.waiting ?? 0) + (counts.prioritized ?? 0));
      for (const state of ["delayed", "active", "failed"] as const)
        queueJobs.set({ queue: name, state }, counts[state] ?? 0);
    }),
  );
  groupsOpen.set(await deps.store.openGroups());
}

function fail(res: Response, status: number, error: string, extra: Record<string, unknown> = {}): void {
  res.status(status).json({ error, ...extra });
}

export function requireToken(expected: string | undefined) {
  return (req: Request, res: Response, next: NextFunction) => {
    const problem = tokenProblem(req, expected);
    if (problem === null) return next();
    res.set("WWW-Authenticate", AUTH_CHALLENGE);
    fail(res, 401, problem);
  };
}

/** The API's view of a stored alert: the contract operators script against. */
export function alertResource(
  stored: NonNullable<Awaited<ReturnType<AlertStore["get"]>>>,
  kb: KnowledgeBase,
  group: GroupInfo | null = null,
  /** The group's first alert, whose Slack message and triage stand for the whole group. */
  leader: StoredAlert | null = null,
  /** The fleet roll-up the group is in, if any. */
  rollup: RollupInfo | null = null,
) {
  const { alert } = stored;
  const enrichment = enrich(alert, kb);
  const owner = leader ?? stored;
  return {
    uuid: alert.uuid,
    rule: alert.rule,
    priority: alert.priority,
    source: alert.source,
    hostname: alert.hostname,
    time: alert.time,
    output: alert.output,
    outputFields: alert.outputFields,
    tags: alert.tags,
    receivedAt: stored.receivedAt,
    state: stateOf(owner),
    acknowledgedBy: owner.acknowledgedBy,
    acknowledgedAt: owner.acknowledgedAt,
    escalatedBy: owner.escalatedBy,
    escalatedAt: owner.escalatedAt,
    ownedBy: owner.ownedBy,
    ownedAt: owner.ownedAt,
    slack: owner.slack,
    escalation: owner.escalation,
    /** How the incident ended (the group's first alert stands for its message), or null while open. */
    resolution: owner.resolution,
    /** The resolved first alert of the group this alert's group follows, if any. */
    previousOccurrence: owner.previousOccurrence,
    delivery:
      leader && leader !== stored ? { ...leader.delivery, status: "grouped" as const } : stored.delivery,
    channel: stored.channel,
    group: group
      ? {
          key: group.key,
          occurrences: group.occurrences,
          first: group.leader,
          firstSeen: group.firstSeen,
          lastSeen: group.lastSeen,
        }
      : null,
    /** The fleet roll-up whose message shows this alert's group (GET /rollups/:id lists its members). */
    rollup: rollup
      ? {
          id: rollup.id,
          state: rollupState(rollup),
          open: rollup.open,
          hosts: rollup.hosts.count,
          occurrences: rollup.occurrences,
          slack: rollup.slack,
          delivery: rollup.delivery,
        }
      : null,
    enrichment: {
      knowledgeId: enrichment.knowledgeId,
      match: enrichment.match,
      relatedRule: enrichment.relatedRule,
      mitre: enrichment.mitre.map((m) => m.id),
      verdict: enrichment.verdict?.id ?? null,
    },
    uuidGenerated: alert.uuidGenerated,
    timeDerivedFrom: alert.timeDerivedFrom,
    repairs: alert.repairs,
  };
}

/** A roll-up's triage state, named as an alert's is. */
function rollupState(r: RollupInfo): "new" | "acknowledged" | "escalated" | "resolved" {
  if (r.resolution) return "resolved";
  if (r.escalatedBy) return "escalated";
  if (r.acknowledgedBy) return "acknowledged";
  return "new";
}

/** The API's view of a roll-up with every member group. */
function rollupResource(r: RollupInfo, members: Awaited<ReturnType<RollupStore["members"]>>) {
  return {
    id: r.id,
    rule: r.rule,
    priority: r.priority,
    channel: r.channel,
    state: rollupState(r),
    open: r.open,
    firstSeen: r.firstSeen,
    lastSeen: r.lastSeen,
    occurrences: r.occurrences,
    groups: r.groups,
    hosts: r.hosts,
    pods: r.pods,
    namespaces: r.namespaces,
    acknowledgedBy: r.acknowledgedBy,
    acknowledgedAt: r.acknowledgedAt,
    escalatedBy: r.escalatedBy,
    escalatedAt: r.escalatedAt,
    resolution: r.resolution,
    slack: r.slack,
    delivery: r.delivery,
    /** Member groups, the busiest first: host, pod, namespace, the group's first alert, occurrences. */
    members,
  };
}

/**
 * The HTTP routes falco-chatops serves besides Slack's and POST /falco (see falco-endpoint.ts):
 * lookup, metrics and health. Slack's receiver is mounted on the same app by the composition root.
 */
export function createHttpApp(deps: HttpDeps): express.Express {
  const { store, redis, kb, log } = deps;
  const app = express();
  app.disable("x-powered-by");
  app.set("query parser", "simple");

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  app.get("/readyz", async (_req, res) => {
    try {
      await withDeadline(redis.ping(), 1000, "Redis PING");
      res.json({ status: "ready", redis: "ok" });
    } catch (error) {
      res.status(503).json({ status: "not ready", redis: (error as Error).message });
    }
  });

  const auth = requireToken(deps.ingestToken);

  app.get("/metrics", auth, async (_req, res) => {
    try {
      await withDeadline(refreshQueueMetrics(deps), REDIS_DEADLINE_MS, "reading queue sizes");
    } catch (error) {
      log.warn({ err: error }, "queue metrics unavailable (Redis down?); serving the rest");
    }
    res.type(register.contentType).send(await register.metrics());
  });

  app.get("/alerts/:uuid", auth, async (req, res) => {
    const uuid = String(req.params.uuid);
    try {
      const found = await withDeadline(store.getWithGroup(uuid), REDIS_DEADLINE_MS, "reading the alert");
      if (!found) return fail(res, 404, `no alert with uuid "${uuid}"`);
      const rollupId = (found.leader ?? found.stored).rollup;
      const rollup = rollupId
        ? await withDeadline(deps.rollups.get(rollupId), REDIS_DEADLINE_MS, "reading its roll-up")
        : null;
      res
        .type("application/json")
        .send(stringifyLossless(alertResource(found.stored, kb, found.group, found.leader, rollup)));
    } catch (error) {
      res.set("Retry-After", "5");
      fail(res, 503, `Redis is unavailable (${(error as Error).message})`);
    }
  });

  app.get("/rollups/:id", auth, async (req, res) => {
    const id = String(req.params.id);
    const page = { offset: 0, limit: 0 };
    for (const name of ["offset", "limit"] as const) {
      const raw = req.query[name];
      if (raw === undefined) continue;
      if (typeof raw !== "string" || !/^\d{1,9}$/.test(raw))
        return fail(res, 400, `${name} must be a whole number (0 or more)`);
      page[name] = Number(raw);
    }
    try {
      const rollup = await withDeadline(deps.rollups.get(id), REDIS_DEADLINE_MS, "reading the roll-up");
      if (!rollup) return fail(res, 404, `no roll-up with id "${id}"`);
      const members = await withDeadline(
        deps.rollups.members(id, page),
        REDIS_DEADLINE_MS * 4,
        "reading its members",
      );
      res.type("application/json").send(JSON.stringify(rollupResource(rollup, members)));
    } catch (error) {
      res.set("Retry-After", "5");
      fail(res, 503, `Redis is unavailable (${(error as Error).message})`);
    }
  });

  app.get("/alerts/:uuid/report", auth, async (req, res) => {
    const uuid = String(req.params.uuid);
    const kind = req.accepts(["text/markdown", "text/html", "text/plain"]);
    if (!kind)
      return fail(
        res,
        406,
        "the report is served as text/markdown (the default) or text/html: send Accept: text/markdown or Accept: text/html",
      );
    try {
      const stored = await withDeadline(
        getFollowingCopy(store, uuid),
        REDIS_DEADLINE_MS,
        "reading the alert",
      );
      if (!stored) return fail(res, 404, `no alert with uuid "${uuid}"`);
      // A later occurrence's incident ends with its group's message: the outcome is the first alert's.
      const owner =
        (await withDeadline(store.getWithGroup(stored.alert.uuid), REDIS_DEADLINE_MS, "reading its group"))
          ?.leader ?? stored;
      const report = {
        ...buildReport(stored.alert, enrich(stored.alert, kb), kb, owner.resolution),
        partialVisibility: await withDeadline(
          partialVisibilityNote(deps.visibility, stored.alert, stored.receivedAt),
          REDIS_DEADLINE_MS,
          "reading the host's drops",
        ),
      };
      res.vary("Accept");
      if (kind === "text/html") {
        // Every alert value is escaped already; the policy is a second line of defence for browsers.
        res.set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
        res.type("text/html; charset=utf-8").send(reportHtml(report));
      } else res.type(`${kind}; charset=utf-8`).send(reportMarkdown(report));
    } catch (error) {
      res.set("Retry-After", "5");
      fail(res, 503, `Redis is unavailable (${(error as Error).message})`);
    }
  });

  return app;
}

/** Added last, after Slack's receiver: JSON answers for unknown routes and body errors. */
export function finishHttpApp(app: express.Express, log: Logger): void {
  app.use((req, res) => {
    fail(res, 404, `no route for ${req.method} ${req.path}: alerts go to POST /falco`);
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = error as { status?: number; type?: string; limit?: number; message?: string };
    if (e.type === "entity.too.large")
      return fail(res, 413, `body is larger than the ${e.limit} bytes this route accepts`);
    if (e.type === "encoding.unsupported" || e.type === "charset.unsupported")
      return fail(res, 415, `unsupported body encoding: ${e.message}`);
    if (typeof e.status === "number" && e.status >= 400 && e.status < 500)
      return fail(res, e.status, e.message ?? "bad request");
    log.error({ err: error }, "unhandled error in HTTP request");
    fail(res, 500, "internal error; see the server log");
  });
}
