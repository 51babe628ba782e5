import type { FalcoAlert } from "./alert.js";
import { JsonDepthError, parseJsonLossless, repairEmptyValues } from "./json.js";
import { type AlertIssue, validateAlert } from "./schema.js";

export type BodyFormat = "json" | "ndjson";

export type ParseBodyResult = { ok: true; alerts: FalcoAlert[] } | { ok: false; issues: AlertIssue[] };

interface Decoded {
  doc: unknown;
  repairs: string[];
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Falco's alerts nest two levels (alert → output_fields); anything far deeper is not an alert. */
export const MAX_JSON_DEPTH = 32;

/** Parses one JSON text; if Falco wrote empty values (invalid JSON), repairs exactly that and says so. */
function decode(text: string): Decoded {
  try {
    // Limited: a deeply nested document would exhaust the stack of whatever walks it recursively.
    return { doc: parseJsonLossless(text, MAX_JSON_DEPTH), repairs: [] };
  } catch (error) {
    if (error instanceof JsonDepthError)
      throw new Error(`nested deeper than ${MAX_JSON_DEPTH} levels; a Falco alert nests two`);
    const repaired = repairEmptyValues(text);
    if (repaired !== null) {
      try {
        return {
          doc: parseJsonLossless(repaired, MAX_JSON_DEPTH),
          repairs: ["empty JSON values (as some Falco versions emit for missing numbers) read as null"],
        };
      } catch {
        // fall through to the original error, which describes what the sender wrote
      }
    }
    throw error;
  }
}

function splitLines(text: string): { line: number; text: string }[] {
  return text
    .split(/\r?\n/)
    .map((t, i) => ({ line: i + 1, text: t.trim() }))
    .filter((l) => l.text !== "");
}

/**
 * Turns a request body into alerts: one JSON object, a JSON array of objects, or NDJSON (one object
 * per line). A JSON body that is not one document but several lines of objects is read as NDJSON
 * too, since that is what `cat falco.log | curl --data-binary @-` sends. Every problem in every
 * alert is reported; no alert is returned unless all of them are valid, so a batch is all or nothing.
 */
export function parseAlertBody(
  text: string,
  format: BodyFormat,
  receivedAt = new Date(),
  maxAlerts = Number.POSITIVE_INFINITY,
): ParseBodyResult {
  const body = text.replace(/^\uFEFF/, "").trim();
  if (body === "")
    return {
      ok: false,
      issues: [{ index: 0, field: "", message: "body is empty: send a Falco JSON alert" }],
    };

  let docs: Decoded[];
  if (format === "json" || body.startsWith("[")) {
    try {
      const whole = decode(body);
      docs = Array.isArray(whole.doc) ? whole.doc.map((doc) => ({ doc, repairs: whole.repairs })) : [whole];
    } catch (error) {
      const lines = splitLines(body);
      if (lines.length < 2 || body.startsWith("[")) {
        return {
          ok: false,
          issues: [{ index: 0, field: "", message: `body is not valid JSON: ${describe(error)}` }],
        };
      }
      const asLines = decodeLines(lines);
      if (!asLines.ok) return asLines;
      docs = asLines.docs;
    }
  } else {
    const asLines = decodeLines(splitLines(body));
    if (!asLines.ok) return asLines;
    docs = asLines.docs;
  }
  if (docs.length === 0)
    return { ok: false, issues: [{ index: 0, field: "", message: "body holds no alerts (empty array)" }] };
  if (docs.length > maxAlerts)
    return {
      ok: false,
      issues: [
        {
          index: maxAlerts,
          field: "",
          message: `body holds ${docs.length} alerts, more than MAX_BATCH_ALERTS (${maxAlerts}): send smaller batches`,
        },
      ],
    };

  const alerts: FalcoAlert[] = [];
  const issues: AlertIssue[] = [];
  for (const [index, { doc, repairs }] of docs.entries()) {
    const result = validateAlert(doc, index, receivedAt, repairs);
    if (result.ok) alerts.push(result.alert);
    else issues.push(...result.issues);
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, alerts };
}

function decodeLines(
  lines: { line: number; text: string }[],
): { ok: true; docs: Decoded[] } | { ok: false; issues: AlertIssue[] } {
  const docs: Decoded[] = [];
  const issues: AlertIssue[] = [];
  for (const [index, { line, text }] of lines.entries()) {
    try {
      docs.push(decode(text));
    } catch (error) {
      issues.push({ index, field: "", message: `line ${line} is not valid JSON: ${describe(error)}` });
    }
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, docs };
}
