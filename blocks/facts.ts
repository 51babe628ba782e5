import { type FalcoAlert, fieldText, fieldValue } from "../src/falco/alert.js";
import { alertFamily } from "../src/falco/family.js";
import { escapeMrkdwn, inlineCode, slackDate } from "./escape.js";
import { fieldRow } from "./layout.js";
import { LIMITS, type TextObject } from "./limits.js";

/*
 * The facts worth a glance, as the section fields under an alert's summary. What matters depends on
 * where the event came from: a process and its container for syscalls, the API request for
 * Kubernetes audit, the account, principal and API call for cloud audit logs, the actor and target
 * for Okta, the repository and actor for GitHub. Absent fields are left out, never shown empty.
 */

type Field = (name: string) => string | null;

function fieldReader(alert: FalcoAlert): Field {
  return (name) => {
    const v = fieldValue(alert, name);
    return v === undefined ? null : fieldText(v);
  };
}

/** Labelled values on their own lines ("region `eu-west-1`"), absent ones dropped; null when none. */
function lines(...parts: [label: string, value: string | null, max?: number][]): string | null {
  const present = parts.filter(([, v]) => v !== null) as [string, string, number?][];
  if (present.length === 0) return null;
  return present
    .map(([label, v, max]) => `${label ? `${label} ` : ""}${inlineCode(v, max ?? 200)}`)
    .join("\n");
}

function push(rows: TextObject[], label: string, value: string | null): void {
  if (value) rows.push(fieldRow(label, value));
}

function syscallAndK8sFacts(alert: FalcoAlert, f: Field): TextObject[] {
  const rows: TextObject[] = [];
  if (alert.hostname) rows.push(fieldRow("Host", inlineCode(alert.hostname, 200)));
  const containerId = f("container.id");
  if (containerId === "host") rows.push(fieldRow("Container", "none (host process)"));
  else if (containerId || f("container.name")) {
    const name = f("container.name");
    rows.push(
      fieldRow(
        "Container",
        [name && inlineCode(name, 200), containerId && `(${inlineCode(containerId, 80)})`]
          .filter(Boolean)
          .join(" "),
      ),
    );
  }
  const image = f("container.image.repository");
  if (image) {
    const tag = f("container.image.tag");
    rows.push(fieldRow("Image", inlineCode(tag ? `${image}:${tag}` : image, 300)));
  }
  const ns = f("k8s.ns.name") ?? f("ka.target.namespace");
  const pod = f("k8s.pod.name");
  push(rows, "Kubernetes", lines(["ns", ns, 120], ["pod", pod]));
  const proc = f("proc.name");
  const cmdline = f("proc.cmdline");
  const exe = f("proc.exepath");
  if (proc || cmdline) {
    const parts = [
      proc && inlineCode(proc, 100),
      exe && exe !== proc && `exe ${inlineCode(exe, 200)}`,
      cmdline && inlineCode(cmdline, 500),
    ];
    rows.push(fieldRow("Process", parts.filter(Boolean).join("\n")));
  }
  const parent = f("proc.pname");
  const gparent = f("proc.aname[2]");
  if (parent || gparent)
    rows.push(
      fieldRow(
        "Parent",
        [parent && inlineCode(parent, 100), gparent && `under ${inlineCode(gparent, 100)}`]
          .filter(Boolean)
          .join(" "),
      ),
    );
  const user = f("user.name") ?? f("ka.user.name");
  if (user) {
    const uid = f("user.uid");
    const loginuid = f("user.loginuid");
    const extra = [
      uid !== null && `uid ${escapeMrkdwn(uid)}`,
      loginuid !== null && `loginuid ${escapeMrkdwn(loginuid)}`,
    ]
      .filter(Boolean)
      .join(", ");
    rows.push(fieldRow("User", `${inlineCode(user, 200)}${extra ? ` (${extra})` : ""}`));
  }
  const verb = f("ka.verb");
  const resource = f("ka.target.resource");
  if (verb || resource) {
    const name = f("ka.target.name") ?? f("ka.resp.name");
    rows.push(
      fieldRow(
        "Request",
        [verb && inlineCode(verb, 40), resource && inlineCode(resource, 80), name && inlineCode(name, 200)]
          .filter(Boolean)
          .join(" "),
      ),
    );
  }
  const file = f("fd.name");
  if (file) rows.push(fieldRow("File / connection", inlineCode(file, 400)));
  return rows;
}

/** Resource-naming fields of the cloud plugins, in the order they are worth showing. */
const AWS_RESOURCE_FIELDS: [label: string, field: string][] = [
  ["bucket", "s3.bucket"],
  ["function", "ct.request.functionname"],
  ["user", "ct.request.username"],
  ["group", "ct.request.groupname"],
  ["cluster", "ct.request.cluster"],
  ["service", "ct.request.servicename"],
  ["task definition", "ct.request.taskdefinition"],
  ["name", "ct.request.name"],
  ["MFA device", "ct.request.serialnumber"],
  ["zone", "ct.request.availabilityzone"],
  ["instance", "json.value[/responseElements/instancesSet/items/0/instanceId]"],
  ["reservation", "ct.response.reservationid"],
  ["subnet", "ct.response.subnetid"],
  ["host", "ct.request.host"],
];

function awsFacts(f: Field): TextObject[] {
  const rows: TextObject[] = [];
  push(rows, "AWS", lines(["account", f("ct.user.accountid"), 40], ["region", f("ct.region"), 40]));
  push(
    rows,
    "Principal",
    lines(["", f("ct.user"), 200], ["ARN", f("ct.user.arn"), 300], ["id", f("ct.user.principalid"), 200]),
  );
  push(rows, "Source", lines(["IP", f("ct.srcip"), 80], ["agent", f("ct.useragent"), 150]));
  push(
    rows,
    "API call",
    lines(["", f("ct.name"), 100], ["service", f("ct.src"), 100], ["error", f("ct.error"), 200]),
  );
  push(
    rows,
    "Resource",
    lines(...AWS_RESOURCE_FIELDS.map(([l, name]): [string, string | null] => [l, f(name)])),
  );
  return rows;
}

const GCP_RESOURCE_FIELDS: [label: string, field: string][] = [
  ["bucket", "gcp.storage.bucket"],
  ["database", "gcp.cloudsql.databaseId"],
  ["function", "gcp.cloudfunctions.function"],
  ["dataset", "json.value[/resource/labels/dataset_id]"],
  ["policy", "json.value[/resource/labels/policy_name]"],
  ["key ring", "json.value[/resource/labels/key_ring_id]"],
  ["key", "json.value[/resource/labels/crypto_key_id]"],
  ["resource", "gcp.resourceName"],
];

function gcpFacts(f: Field): TextObject[] {
  const rows: TextObject[] = [];
  push(rows, "GCP project", lines(["", f("gcp.projectId"), 100]));
  push(rows, "Principal", lines(["", f("gcp.user"), 200]));
  push(rows, "Caller", lines(["IP", f("gcp.callerIP"), 80], ["agent", f("gcp.userAgent"), 150]));
  push(rows, "API call", lines(["", f("gcp.methodName"), 200], ["service", f("gcp.serviceName"), 100]));
  push(
    rows,
    "Resource",
    lines(...GCP_RESOURCE_FIELDS.map(([l, name]): [string, string | null] => [l, f(name)])),
  );
  push(rows, "Policy change", lines(["", f("gcp.policyDelta"), 400]));
  return rows;
}

function oktaFacts(f: Field): TextObject[] {
  const rows: TextObject[] = [];
  push(rows, "Actor", lines(["", f("okta.actor.name"), 200], ["login", f("okta.actor.alternateid"), 200]));
  push(
    rows,
    "Target",
    lines(
      ["user", f("okta.target.user.name") ?? f("okta.target.user.alternateid")],
      ["group", f("okta.target.group.name")],
      ["app", f("okta.target.app.alternateid")],
    ),
  );
  const place = [f("okta.client.geo.city"), f("okta.client.geo.country")].filter(Boolean).join(", ") || null;
  push(
    rows,
    "Client",
    lines(["IP", f("okta.client.ip"), 80], ["from", place, 120], ["agent", f("okta.useragent.raw"), 150]),
  );
  push(
    rows,
    "Event",
    lines(["", f("okta.evt.type"), 120], ["result", f("okta.result"), 60], ["reason", f("okta.reason"), 300]),
  );
  const failures = f("okta.mfa.failure.countlast[300]");
  const denies = f("okta.mfa.deny.countlast[300]");
  push(rows, "MFA in the last 5 min", lines(["failures", failures, 20], ["denied pushes", denies, 20]));
  return rows;
}

function githubFacts(f: Field): TextObject[] {
  const rows: TextObject[] = [];
  const publicFlag = f("github.repo.public");
  push(
    rows,
    "Repository",
    lines(["", f("github.repo.name") ?? f("github.repo.url"), 200], ["public", publicFlag, 10]),
  );
  push(rows, "Owner", lines(["org", f("github.org"), 100], ["owner", f("github.owner"), 100]));
  push(rows, "Actor", lines(["", f("github.user"), 100]));
  push(
    rows,
    "Action",
    lines(
      ["", [f("github.type"), f("github.action")].filter(Boolean).join(" ") || null, 100],
      ["collaborator", f("github.collaborator.name"), 100],
      ["role", f("github.collaborator.role"), 40],
      ["webhook", [f("github.webhook.type"), f("github.webhook.id")].filter(Boolean).join(" ") || null, 100],
      ["workflow", f("github.workflow.filename"), 200],
    ),
  );
  push(
    rows,
    "Secrets found",
    lines(
      ["", f("github.diff.committed_secrets.desc"), 300],
      ["in", f("github.diff.committed_secrets.files"), 300],
    ),
  );
  return rows;
}

/** A source this app has no layout for: its first fields by name, so the message is never bare. */
function otherFacts(alert: FalcoAlert, f: Field): TextObject[] {
  const rows: TextObject[] = [];
  if (alert.hostname) rows.push(fieldRow("Host", inlineCode(alert.hostname, 200)));
  for (const name of Object.keys(alert.outputFields)) {
    const value = f(name);
    if (value !== null && !/^evt\.(time|num|plugininfo)/.test(name))
      rows.push(fieldRow(escapeMrkdwn(name), inlineCode(value, 300)));
    if (rows.length >= 6) break;
  }
  return rows;
}

export function factFields(alert: FalcoAlert): TextObject[] {
  const f = fieldReader(alert);
  const family = alertFamily(alert);
  const rows =
    family === "aws_cloudtrail"
      ? awsFacts(f)
      : family === "gcp_auditlog"
        ? gcpFacts(f)
        : family === "okta"
          ? oktaFacts(f)
          : family === "github"
            ? githubFacts(f)
            : family === "syscall" || family === "k8s_audit"
              ? syscallAndK8sFacts(alert, f)
              : otherFacts(alert, f);
  rows.push(fieldRow("Time", slackDate(alert.time)));
  return rows.slice(0, LIMITS.sectionFields);
}
