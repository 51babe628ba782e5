import { type FalcoAlert, fieldText, fieldValue } from "./alert.js";

/** The kinds of event source whose alerts the app lays out, explains and acts on differently. */
export type AlertFamily =
  "syscall" | "k8s_audit" | "aws_cloudtrail" | "gcp_auditlog" | "okta" | "github" | "other";

const KNOWN = new Set<AlertFamily>([
  "syscall",
  "k8s_audit",
  "aws_cloudtrail",
  "gcp_auditlog",
  "okta",
  "github",
]);

/** Field prefixes each plugin defines, for alerts whose `source` is missing or renamed. */
const PREFIXES: [prefix: string, family: AlertFamily][] = [
  ["ct.", "aws_cloudtrail"],
  ["s3.", "aws_cloudtrail"],
  ["gcp.", "gcp_auditlog"],
  ["okta.", "okta"],
  ["github.", "github"],
  ["ka.", "k8s_audit"],
  ["jevt.", "k8s_audit"],
  ["proc.", "syscall"],
  ["fd.", "syscall"],
  ["container.", "syscall"],
];

/**
 * Which family an alert belongs to: its `source` when it names a known one, else the plugin whose
 * fields it carries (Falco before 0.30 sent no `source`; a renamed plugin keeps its field names).
 */
export function alertFamily(alert: Pick<FalcoAlert, "source" | "outputFields">): AlertFamily {
  if (KNOWN.has(alert.source as AlertFamily)) return alert.source as AlertFamily;
  const names = Object.keys(alert.outputFields);
  for (const [prefix, family] of PREFIXES) if (names.some((n) => n.startsWith(prefix))) return family;
  return "other";
}

const CLOUD_AND_SAAS = new Set<AlertFamily>(["aws_cloudtrail", "gcp_auditlog", "okta", "github"]);

/** Cloud and SaaS audit events happen elsewhere: their host is only where Falco read them. */
export function isCloudOrSaas(alert: Pick<FalcoAlert, "source" | "outputFields">): boolean {
  return CLOUD_AND_SAAS.has(alertFamily(alert));
}

/** Fields naming where a cloud or SaaS event happened, best first. */
const SUBJECT_FIELDS: Partial<Record<AlertFamily, [label: string, field: string][]>> = {
  aws_cloudtrail: [
    ["AWS account", "ct.user.accountid"],
    ["AWS user", "ct.user"],
    ["AWS region", "ct.region"],
  ],
  gcp_auditlog: [
    ["GCP project", "gcp.projectId"],
    ["GCP principal", "gcp.user"],
  ],
  okta: [
    ["Okta user", "okta.actor.name"],
    ["Okta user", "okta.target.user.name"],
  ],
  github: [
    ["GitHub repository", "github.repo.name"],
    ["GitHub organisation", "github.org"],
    ["GitHub user", "github.user"],
  ],
};

/**
 * Where the event happened, for one-line texts: the host for syscall and Kubernetes alerts, the
 * account, project, user or repository for cloud and SaaS alerts (their host is only where Falco ran).
 */
export function alertSubject(alert: Pick<FalcoAlert, "source" | "outputFields" | "hostname">): string | null {
  const candidates = SUBJECT_FIELDS[alertFamily(alert)];
  if (!candidates) return alert.hostname;
  for (const [label, field] of candidates) {
    const v = fieldValue(alert, field);
    if (v !== undefined) return `${label} ${fieldText(v)}`;
  }
  return null;
}
