import { createHash } from "node:crypto";
import { type FalcoAlert, fieldText, isAbsent } from "../falco/alert.js";
import { outputText } from "../enrich/enrich.js";

/** Fields that make two alerts "the same incident" by default: same rule, host and workload. */
export const DEFAULT_GROUP_FIELDS = [
  "rule",
  "source",
  "hostname",
  "container.id",
  "k8s.ns.name",
  "k8s.pod.name",
  "ka.user.name",
  "ka.target.namespace",
];

function valueOf(alert: FalcoAlert, field: string): string {
  if (field === "rule") return alert.rule;
  if (field === "source") return alert.source;
  if (field === "hostname") return alert.hostname ?? "";
  if (field === "priority") return alert.priority;
  const v = alert.outputFields[field];
  return isAbsent(v) ? "" : fieldText(v);
}

/** The group key: the chosen fields' values, readable in `GET /alerts/:uuid` and hashed for Redis. */
export function groupKeyOf(alert: FalcoAlert, fields: string[]): string {
  return fields.map((f) => `${f}=${valueOf(alert, f)}`).join(" ");
}

export function hashKey(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 32);
}

/**
 * What varies between occurrences and is worth a glance: the command line, else the file or
 * connection, else the audit target, else the rule's text.
 */
export function sampleOf(alert: FalcoAlert): string {
  for (const field of ["proc.cmdline", "fd.name", "ka.target.name", "ka.uri"]) {
    const v = alert.outputFields[field];
    if (!isAbsent(v)) return fieldText(v).slice(0, 300);
  }
  return outputText(alert).slice(0, 300);
}

/**
 * Identity of an alert's content: falcosidekick gives every delivery of the same Falco event a new
 * uuid, so an event sent twice is recognised by what it says instead.
 */
export function contentKeyOf(alert: FalcoAlert): string {
  return hashKey(JSON.stringify([alert.rule, alert.time, alert.hostname, alert.output]));
}
