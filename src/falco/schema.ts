import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { FalcoAlert, FieldValue } from "./alert.js";
import { PRIORITIES, normalisePriority } from "./priority.js";

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:?\d{2})$/;
export const ALERT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const FIELD_VALUE_ERROR = "must be a string, number, null or a list of them";

function isFieldScalar(v: unknown): boolean {
  return (
    v === null ||
    typeof v === "string" ||
    typeof v === "number" ||
    typeof v === "bigint" ||
    typeof v === "boolean"
  );
}

/**
 * `output_fields`: an object whose values are scalars, or lists of them (plugins render list fields,
 * k8saudit's `ka.req.pod.containers.image` and others, as JSON arrays). A check over the object as it
 * was parsed rather than `z.record(z.string(), z.union(…))`, which rebuilds the object value by value
 * and was a quarter of the cost of validating an alert.
 */
const outputFieldsSchema = z
  .custom<Record<string, FieldValue>>((v) => typeof v === "object" && v !== null && !Array.isArray(v), {
    error: "must be an object",
  })
  .check((ctx) => {
    for (const key of Object.keys(ctx.value)) {
      const v = ctx.value[key];
      if (!isFieldScalar(v) && !(Array.isArray(v) && v.every(isFieldScalar)))
        ctx.issues.push({ code: "custom", path: [key], message: FIELD_VALUE_ERROR, input: v });
    }
  });

/** The JSON Falco (and falcosidekick's webhook output) sends, as loosely as Falco has ever written it. */
export const FalcoAlertSchema = z.looseObject({
  uuid: z
    .string({ error: "must be a string" })
    .regex(ALERT_ID, "must be a UUID (letters, digits, '.', '_' or '-'; at most 128)")
    .optional(),
  rule: z.string({ error: "is required and must be a string" }).trim().min(1, "must not be empty"),
  priority: z
    .string({ error: "is required and must be a string" })
    .refine((p) => normalisePriority(p) !== undefined, {
      error: (issue) => `must be one of ${PRIORITIES.join(", ")} (got ${JSON.stringify(issue.input)})`,
    }),
  output: z.string({ error: "must be a string" }).default(""),
  time: z
    .string({ error: "must be an RFC 3339 time string" })
    .refine((t) => t === "" || (RFC3339.test(t) && !Number.isNaN(Date.parse(t))), {
      error: (issue) =>
        `must be an RFC 3339 time such as 2024-10-05T13:00:46.937782756Z (got ${JSON.stringify(issue.input)})`,
    })
    .optional(),
  source: z.string({ error: "must be a string" }).optional(),
  hostname: z.string({ error: "must be a string" }).optional(),
  tags: z.array(z.string({ error: "must be a string" }), { error: "must be an array of strings" }).optional(),
  output_fields: outputFieldsSchema.optional(),
});

export interface AlertIssue {
  /** Position of the alert in the request body (0 for a single object). */
  index: number;
  /** The offending field, e.g. `priority` or `output_fields["evt.time"]`. */
  field: string;
  message: string;
}

export function formatIssue(issue: AlertIssue): string {
  return `alert[${issue.index}]${issue.field ? `.${issue.field}` : ""}: ${issue.message}`;
}

function fieldPath(path: PropertyKey[]): string {
  let out = "";
  for (const [i, key] of path.entries()) {
    if (typeof key === "number") out += `[${key}]`;
    else if (i > 0 && path[0] === "output_fields") out += `[${JSON.stringify(String(key))}]`;
    else out += (out ? "." : "") + String(key);
  }
  return out;
}

const CANONICAL_KEYS = [
  "uuid",
  "rule",
  "priority",
  "output",
  "time",
  "source",
  "hostname",
  "tags",
  "output_fields",
];

/** Go's encoding/json matches keys case-insensitively, so Go senders get away with `"Rule"`; so do we. */
function canonicaliseKeys(doc: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...doc };
  for (const key of Object.keys(doc)) {
    const canonical = CANONICAL_KEYS.find((k) => k === key.toLowerCase());
    if (canonical && canonical !== key && !(canonical in doc)) {
      out[canonical] = doc[key];
      delete out[key];
    }
  }
  return out;
}

/** Nanoseconds since the epoch → RFC 3339 with nanoseconds. */
export function nanosToRfc3339(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const nanos = ns % 1_000_000_000n;
  const iso = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${iso}.${nanos.toString().padStart(9, "0")}Z`;
}

function inferSource(rule: string, fields: Record<string, FieldValue>): string {
  if (rule.startsWith("Falco internal:")) return "internal";
  const keys = Object.keys(fields);
  if (keys.some((k) => k.startsWith("ka.") || k.startsWith("jevt."))) return "k8s_audit";
  if (keys.some((k) => k.startsWith("ct."))) return "aws_cloudtrail";
  if (keys.some((k) => k.startsWith("gcp."))) return "gcp_auditlog";
  if (keys.some((k) => k.startsWith("okta."))) return "okta";
  if (keys.some((k) => k.startsWith("github."))) return "github";
  return "syscall";
}

export type ValidationResult = { ok: true; alert: FalcoAlert } | { ok: false; issues: AlertIssue[] };

/**
 * Validates one decoded JSON document as a Falco alert and normalises it.
 * `receivedAt` stands in for the time when Falco sent an empty one.
 */
export function validateAlert(
  doc: unknown,
  index: number,
  receivedAt: Date,
  repairs: string[] = [],
): ValidationResult {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    return { ok: false, issues: [{ index, field: "", message: "must be a JSON object (one Falco alert)" }] };
  }
  const parsed = FalcoAlertSchema.safeParse(canonicaliseKeys(doc as Record<string, unknown>));
  if (!parsed.success) {
    return {
      ok: false,
      issues: parsed.error.issues.map((issue) => ({
        index,
        field: fieldPath(issue.path),
        message: issue.message,
      })),
    };
  }
  const a = parsed.data;
  const outputFields = (a.output_fields ?? {}) as Record<string, FieldValue>;
  let time = a.time ?? "";
  let timeDerivedFrom: FalcoAlert["timeDerivedFrom"] = "alert";
  if (time === "") {
    const evtTime = outputFields["evt.time"];
    if (typeof evtTime === "bigint" || (typeof evtTime === "number" && evtTime > 1e15)) {
      time = nanosToRfc3339(BigInt(evtTime));
      timeDerivedFrom = "evt.time";
    } else {
      time = receivedAt.toISOString();
      timeDerivedFrom = "received";
    }
  }
  const hostnameField = outputFields["evt.hostname"];
  return {
    ok: true,
    alert: {
      uuid: a.uuid ?? randomUUID(),
      uuidGenerated: a.uuid === undefined,
      rule: a.rule,
      priority: normalisePriority(a.priority)!,
      source: a.source?.trim() || inferSource(a.rule, outputFields),
      hostname: a.hostname ?? (typeof hostnameField === "string" ? hostnameField : null),
      time,
      timeDerivedFrom,
      output: a.output,
      outputFields,
      tags: a.tags ?? [],
      repairs,
    },
  };
}
