import type { IncomingMessage, ServerResponse } from "node:http";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import type { Readable } from "node:stream";
import type { Logger } from "pino";
import type { FalcoAlert } from "../falco/alert.js";
import { type BodyFormat, parseAlertBody } from "../falco/body.js";
import { formatIssue } from "../falco/schema.js";
import { alertsRejected, watchIngestBudget } from "../metrics.js";
import { REDIS_DEADLINE_MS, withDeadline } from "../redis/connection.js";
import type { Accepted } from "./accept.js";
import { AUTH_CHALLENGE, tokenProblem } from "./auth.js";
import { ByteBudget } from "./byte-budget.js";

/*
 * POST /falco is the one hot path: every alert Falco raises comes through it, one request each from
 * Falco's http_output. It is served by node:http directly rather than through Express, whose routing,
 * body parser and response helpers cost about a quarter of the CPU of an alert (measured with
 * `npm run bench` and a CPU profile). Every other route stays on Express.
 */

export interface FalcoEndpointDeps {
  /** Stores and queues one request's alerts; resolves only once all of them are. */
  accept: (alerts: FalcoAlert[], receivedAt: Date) => Promise<Accepted>;
  ingestToken: string | undefined;
  maxBodyBytes: number;
  /** Request bytes held at once (see ByteBudget); further requests wait unread. */
  maxBytesInFlight: number;
  maxBatchAlerts?: number;
  log: Logger;
}

const CONTENT_TYPES: Record<string, BodyFormat> = {
  "application/json": "json",
  "text/json": "json",
  "application/x-ndjson": "ndjson",
  "application/ndjson": "ndjson",
  "application/jsonl": "ndjson",
  "application/x-jsonlines": "ndjson",
  "application/jsonlines": "ndjson",
  // Sent by Falco's http_output when json_output is off; parsed as JSON so the error says what to fix.
  "text/plain": "json",
};

/** True for the requests this endpoint serves: POST /falco (any case, optional trailing slash). */
export function isFalcoIngest(req: IncomingMessage): boolean {
  if (req.method !== "POST") return false;
  const url = req.url ?? "";
  const end = url.indexOf("?");
  const path = (end < 0 ? url : url.slice(0, end)).toLowerCase();
  return path === "/falco" || path === "/falco/";
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function fail(
  res: ServerResponse,
  status: number,
  error: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): void {
  send(res, status, { error, ...extra }, headers);
}

/** The Content-Encoding, lower case; "identity" when there is none. */
function contentEncoding(req: IncomingMessage): string {
  return (req.headers["content-encoding"] ?? "identity").trim().toLowerCase() || "identity";
}

/** The request body as a stream of its decoded bytes, or null for an encoding we cannot decode. */
function decodedBody(req: IncomingMessage): Readable | null {
  switch (contentEncoding(req)) {
    case "identity":
      return req;
    case "gzip":
    case "x-gzip":
      return req.pipe(createGunzip());
    case "deflate":
      return req.pipe(createInflate());
    case "br":
      return req.pipe(createBrotliDecompress());
    default:
      return null;
  }
}

/** Reads the whole body, or reports that it exceeds `limit` bytes or could not be decoded. */
function readBody(
  req: IncomingMessage,
  limit: number,
  done: (
    result: { ok: true; text: string } | { ok: false; reason: "too_large" | "corrupt" | "aborted" },
  ) => void,
): void {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return done({ ok: false, reason: "too_large" });
  const stream = decodedBody(req);
  if (!stream) return done({ ok: false, reason: "corrupt" });
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (result: Parameters<typeof done>[0]) => {
    if (finished) return;
    finished = true;
    done(result);
  };
  stream.on("data", (chunk: Buffer) => {
    if (finished) return;
    size += chunk.length;
    if (size > limit) {
      stream.removeAllListeners("data");
      if (stream !== req) stream.destroy();
      return finish({ ok: false, reason: "too_large" });
    }
    chunks.push(chunk);
  });
  stream.on("end", () =>
    finish({
      ok: true,
      text: chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8"),
    }),
  );
  stream.on("error", () => finish({ ok: false, reason: "corrupt" }));
  req.on("aborted", () => finish({ ok: false, reason: "aborted" }));
}

/**
 * What a request reserves of the in-flight budget: its declared length when its body is sent as is,
 * else (compressed, or no length given) the most its decoded body may grow to.
 */
function reservationFor(req: IncomingMessage, maxBodyBytes: number): number {
  const declared = Number(req.headers["content-length"]);
  return contentEncoding(req) === "identity" && Number.isFinite(declared) && declared >= 0
    ? Math.min(declared, maxBodyBytes)
    : maxBodyBytes;
}

/** Serves POST /falco: one Falco alert, an array of them, or NDJSON. */
export function createFalcoEndpoint(deps: FalcoEndpointDeps) {
  const { log } = deps;
  const budget = new ByteBudget(deps.maxBytesInFlight);
  watchIngestBudget(budget);
  return (req: IncomingMessage, res: ServerResponse): void => {
    const problem = tokenProblem(req, deps.ingestToken);
    if (problem !== null) {
      alertsRejected.inc({ reason: "unauthorized" });
      return fail(res, 401, problem, {}, { "www-authenticate": AUTH_CHALLENGE });
    }
    const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "" && !(type in CONTENT_TYPES)) {
      alertsRejected.inc({ reason: "unsupported_type" });
      return fail(
        res,
        415,
        `Content-Type "${type}" is not supported: send application/json (one Falco alert or an array of them) ` +
          `or application/x-ndjson (one alert per line); with curl add -H 'Content-Type: application/json'`,
      );
    }
    const format = CONTENT_TYPES[type] ?? "json";
    // Held from before the body is read until the answer is sent or the sender has gone.
    const bytes = reservationFor(req, deps.maxBodyBytes);
    if (budget.tryTake(bytes)) {
      res.once("close", () => budget.give(bytes));
      return read(req, res, format);
    }
    const waiter = budget.wait(bytes, () => read(req, res, format));
    res.once("close", () => budget.leave(waiter));
  };

  function read(req: IncomingMessage, res: ServerResponse, format: BodyFormat): void {
    readBody(req, deps.maxBodyBytes, (body) => {
      if (!body.ok) {
        if (body.reason === "aborted") return; // the sender is gone; nothing was accepted
        if (body.reason === "too_large") {
          alertsRejected.inc({ reason: "too_large" });
          // Closing the connection spares reading the rest of a body we will not accept.
          return fail(
            res,
            413,
            `body is larger than MAX_BODY_BYTES (${deps.maxBodyBytes} bytes): send fewer alerts per request`,
            {},
            { connection: "close" },
          );
        }
        alertsRejected.inc({ reason: "unsupported_type" });
        const encoding = req.headers["content-encoding"] ?? "";
        return fail(
          res,
          415,
          `unsupported body encoding: Content-Encoding "${encoding}" could not be decoded; send the body uncompressed, or as gzip, deflate or br`,
        );
      }
      void ingest(body.text, format, res);
    });
  }

  async function ingest(text: string, format: BodyFormat, res: ServerResponse): Promise<void> {
    const receivedAt = new Date();
    const parsed = parseAlertBody(text, format, receivedAt, deps.maxBatchAlerts);
    if (!parsed.ok) {
      alertsRejected.inc({ reason: "bad_request" });
      const shown = parsed.issues.slice(0, 20);
      const more = parsed.issues.length - shown.length;
      return fail(res, 400, shown.map(formatIssue).join("; ") + (more > 0 ? `; and ${more} more` : ""), {
        issues: shown,
      });
    }
    const alerts = parsed.alerts;
    try {
      const { duplicates, health } = await withDeadline(
        deps.accept(alerts, receivedAt),
        REDIS_DEADLINE_MS,
        "storing and queueing alerts",
      );
      for (const a of alerts)
        if (a.repairs.length)
          log.warn({ uuid: a.uuid, repairs: a.repairs }, "accepted an alert Falco emitted as invalid JSON");
      log.debug({ accepted: alerts.length, duplicates: duplicates.length }, "alerts accepted");
      send(res, 202, { accepted: alerts.length, uuids: alerts.map((a) => a.uuid), duplicates, health });
    } catch (error) {
      alertsRejected.inc({ reason: "redis_unavailable" });
      log.error({ err: error }, "Redis unavailable: alerts not accepted");
      fail(
        res,
        503,
        `Redis is unavailable, nothing was accepted; retry later (${(error as Error).message})`,
        {},
        { "retry-after": "5" },
      );
    }
  }
}
