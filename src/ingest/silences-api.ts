import express, { type Request, type Response } from "express";
import type { Logger } from "pino";
import { z } from "zod";
import { normalisePriority } from "../falco/priority.js";
import { REDIS_DEADLINE_MS, withDeadline } from "../redis/connection.js";
import { SCOPE_FIELDS } from "../silence/scope.js";
import type { Silences } from "../silence/service.js";
import { checkEnd, DURATIONS, isDurationChoice, type Silence } from "../silence/silence.js";
import { requireToken } from "./http.js";

const text = (max: number) =>
  z.string().trim().min(1, "must not be empty").max(max, `must be at most ${max} characters`);

/** POST /silences: what a silence is made of. Unknown fields are refused, so a typo is not ignored. */
const NewSilenceBody = z
  .strictObject({
    rule: text(1000),
    priority: z.string().transform((value, ctx) => {
      const p = normalisePriority(value);
      if (!p) ctx.addIssue({ code: "custom", message: "must be a Falco priority (Emergency … Debug)" });
      return p ?? "Debug";
    }),
    match: z
      .record(
        z.string().refine((f) => SCOPE_FIELDS.has(f), {
          message: `must name one of ${[...SCOPE_FIELDS.keys()].join(", ")}`,
        }),
        text(1000),
      )
      .default({}),
    reason: text(2000),
    createdBy: text(200),
    endsAt: z.iso.datetime({ offset: true, error: "must be an ISO 8601 date and time" }).optional(),
    duration: z
      .string()
      .refine(isDurationChoice, { message: `must be one of ${Object.keys(DURATIONS).join(", ")}` })
      .optional(),
  })
  .refine((b) => (b.endsAt === undefined) !== (b.duration === undefined), {
    message: "give exactly one of endsAt and duration",
    path: ["endsAt"],
  });

function problemOf(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const path = issue.path.map(String).join(".");
  if (issue.code === "invalid_key") return `${path}: ${issue.issues[0]?.message ?? issue.message}`;
  if (issue.code === "unrecognized_keys")
    return `unknown field ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
  return path ? `${path}: ${issue.message}` : issue.message;
}

function resource(s: Silence, held: number) {
  return { ...s, held, active: !s.endedAt && Date.parse(s.endsAt) > Date.now() };
}

/**
 * GET /silences (active ones), GET /silences/:id, POST /silences, DELETE /silences/:id: the same
 * token as /alerts. Redis unavailable: 503 with Retry-After, as /alerts answers.
 */
export function silencesRouter(deps: { silences: Silences; ingestToken: string | undefined; log: Logger }) {
  const { silences, log } = deps;
  const store = silences.store;
  const router = express.Router();
  const auth = requireToken(deps.ingestToken);
  const fail = (res: Response, status: number, error: string) => res.status(status).json({ error });
  const unavailable = (res: Response, error: unknown) => {
    res.set("Retry-After", "5");
    fail(res, 503, `Redis is unavailable (${(error as Error).message})`);
  };
  const deadline = <T>(p: Promise<T>) => withDeadline(p, REDIS_DEADLINE_MS, "reading the silences");

  router.get("/silences", auth, async (_req, res) => {
    try {
      const active = await deadline(store.active());
      const held = await deadline(Promise.all(active.map((s) => store.held(s.id))));
      res.json({ silences: active.map((s, i) => resource(s, held[i]!)) });
    } catch (error) {
      unavailable(res, error);
    }
  });

  router.get("/silences/:id", auth, async (req, res) => {
    try {
      const silence = await deadline(store.get(String(req.params.id)));
      if (!silence) return fail(res, 404, `no silence with id "${String(req.params.id)}"`);
      res.json(resource(silence, await deadline(store.held(silence.id))));
    } catch (error) {
      unavailable(res, error);
    }
  });

  router.post("/silences", auth, express.json({ limit: "16kb", strict: true }), async (req: Request, res) => {
    if (!req.is("application/json"))
      return fail(res, 415, "send the silence as JSON (Content-Type: application/json)");
    const parsed = NewSilenceBody.safeParse(req.body);
    if (!parsed.success) return fail(res, 400, problemOf(parsed.error));
    const body = parsed.data;
    const now = new Date();
    const end = checkEnd(
      body.duration && isDurationChoice(body.duration)
        ? new Date(now.getTime() + DURATIONS[body.duration].ms)
        : new Date(body.endsAt!),
      now,
    );
    if ("problem" in end) return fail(res, 400, `${body.duration ? "duration" : "endsAt"}: ${end.problem}`);
    try {
      const silence = await deadline(
        silences.create(
          {
            rule: body.rule,
            priority: body.priority,
            match: body.match,
            createdBy: body.createdBy,
            reason: body.reason,
            endsAt: end.endsAt,
          },
          now,
        ),
      );
      log.info({ silence: silence.id, createdBy: body.createdBy }, "silence made over HTTP");
      res.status(201).location(`/silences/${silence.id}`).json(resource(silence, 0));
    } catch (error) {
      unavailable(res, error);
    }
  });

  router.delete("/silences/:id", auth, async (req, res) => {
    const id = String(req.params.id);
    const by =
      typeof req.query.by === "string" && req.query.by.trim()
        ? req.query.by.trim().slice(0, 200)
        : "HTTP API";
    try {
      const result = await deadline(silences.lift(id, by));
      if (result.outcome === "missing") return fail(res, 404, `no silence with id "${id}"`);
      if (result.outcome === "already")
        return fail(res, 409, `silence "${id}" already ended at ${result.at}`);
      log.info({ silence: id, by }, "silence lifted over HTTP");
      const silence = await deadline(store.get(id));
      res.json(silence ? resource(silence, await deadline(store.held(id))) : { id });
    } catch (error) {
      unavailable(res, error);
    }
  });

  return router;
}
