import { hash } from "node:crypto";
import { type FalcoAlert, fieldText, isAbsent } from "../falco/alert.js";
import { outputText } from "../enrich/enrich.js";

/**
 * Fields that make two alerts "the same incident" by default: same rule, host and workload; for
 * cloud and SaaS alerts, whose host is only where Falco ran, the same principal or repository.
 */
export const DEFAULT_GROUP_FIELDS = [
  "rule",
  "source",
  "hostname",
  "container.id",
  "k8s.ns.name",
  "k8s.pod.name",
  "ka.user.name",
  "ka.target.namespace",
  "ct.user",
  "gcp.user",
  "okta.actor.name",
  "github.repo.name",
];

function valueOf(alert: FalcoAlert, field: string): string {
  if (field === "rule") return alert.rule;
  if (field === "source") return alert.source;
  if (field === "hostname") return alert.hostname ?? "";
  if (field === "priority") return alert.priority;
  const v = alert.outputFields[field];
  return isAbsent(v) ? "" : fieldText(v);
}

/**
 * The group key: the chosen fields' values, readable in `GET /alerts/:uuid` and hashed for Redis.
 * Fields the alert does not carry are left out (a syscall alert has no `ct.user`).
 */
export function groupKeyOf(alert: FalcoAlert, fields: string[]): string {
  return fields
    .map((f) => [f, valueOf(alert, f)] as const)
    .filter(([, v]) => v !== "")
    .map(([f, v]) => `${f}=${v}`)
    .join(" ");
}

export function hashKey(text: string): string {
  // The one-shot form: no Hash object per call, which shows in the ingest profile.
  return hash("sha256", text, "hex").slice(0, 32);
}

/** Per kind of alert, the field whose value is worth a glance across occurrences. */
const SAMPLE_FIELDS = [
  "proc.cmdline",
  "fd.name",
  "ka.target.name",
  "ka.uri",
  "s3.bucket",
  "ct.srcip",
  "gcp.callerIP",
  "okta.client.ip",
  "okta.target.user.name",
  "github.user",
];

/**
 * What varies between occurrences and is worth a glance: the command line, else the file or
 * connection, else the audit target, else (cloud and SaaS) the bucket, caller IP or user, else the
 * rule's text.
 */
export function sampleOf(alert: FalcoAlert): string {
  for (const field of SAMPLE_FIELDS) {
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

/** Where an alert happened, as a fleet roll-up counts it: host, pod and namespace ("" when absent). */
export interface AlertPlace {
  host: string;
  pod: string;
  namespace: string;
}

export function placeOf(alert: FalcoAlert): AlertPlace {
  return {
    host: valueOf(alert, "hostname"),
    pod: valueOf(alert, "k8s.pod.name"),
    namespace: valueOf(alert, "k8s.ns.name") || valueOf(alert, "ka.target.namespace"),
  };
}
