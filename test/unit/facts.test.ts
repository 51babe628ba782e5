import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fallbackText } from "../../blocks/alert-line.js";
import { renderAlertMessage } from "../../blocks/alert-message.js";
import { factFields } from "../../blocks/facts.js";
import { limitProblems } from "../../blocks/limits.js";
import { enrich } from "../../src/enrich/enrich.js";
import { shippedKnowledgeBase } from "../helpers/knowledge.js";
import type { FalcoAlert, FieldValue } from "../../src/falco/alert.js";
import { parseAlertBody } from "../../src/falco/body.js";
import { alertFamily } from "../../src/falco/family.js";
import { HAVE_SHARED, SHARED_FALCO } from "../helpers/shared-corpus.js";

const kb = shippedKnowledgeBase();
const noTriage = { acknowledgedBy: null, acknowledgedAt: null, escalatedBy: null, escalatedAt: null };

function alert(source: string, rule: string, outputFields: Record<string, FieldValue>): FalcoAlert {
  return {
    uuid: "9b2f6c1e-3d4a-4b5c-8d6e-7f8091a2b3c4",
    uuidGenerated: false,
    rule,
    priority: "Critical",
    source,
    hostname: "falco-plugins-0",
    time: "2026-07-22T14:24:41.000000000Z",
    timeDerivedFrom: "alert",
    output: "",
    outputFields,
    tags: [],
    repairs: [],
  };
}

/** Each fact row as "Label: text", for readable assertions. */
function rows(a: FalcoAlert): Map<string, string> {
  return new Map(
    factFields(a).map((t) => {
      const [label, ...rest] = t.text.split("\n");
      return [label!.replace(/^\*|\*$/g, ""), rest.join("\n")];
    }),
  );
}

function mrkdwnTexts(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(mrkdwnTexts);
  if (node && typeof node === "object") {
    const o = node as Record<string, unknown>;
    if (o.type === "mrkdwn" && typeof o.text === "string") return [o.text];
    return Object.values(o).flatMap(mrkdwnTexts);
  }
  return [];
}

const SYSCALL_ROWS = ["Host", "Container", "Image", "Kubernetes", "Process", "Parent"];

describe("facts adapted to the alert's source", () => {
  it("AWS CloudTrail: account, region, principal, ARN, source IP, API call and resource", () => {
    const a = alert("aws_cloudtrail", "Put Bucket Policy", {
      "ct.user": "deploy-bot",
      "ct.user.arn": "arn:aws:iam::123456789012:user/deploy-bot",
      "ct.user.accountid": "123456789012",
      "ct.region": "eu-west-1",
      "ct.srcip": "198.51.100.23",
      "ct.name": "PutBucketPolicy",
      "s3.bucket": "shop-invoices",
      "ct.request.policy": null,
    });
    const r = rows(a);
    expect([...r.keys()]).toEqual(["AWS", "Principal", "Source", "API call", "Resource", "Time"]);
    expect(r.get("AWS")).toBe("account `123456789012`\nregion `eu-west-1`");
    expect(r.get("Principal")).toContain("ARN `arn:aws:iam::123456789012:user/deploy-bot`");
    expect(r.get("Resource")).toBe("bucket `shop-invoices`");
    expect(fallbackText(a)).toBe("Critical: Put Bucket Policy on AWS account 123456789012");
  });

  it("GCP: project, principal, caller, method and resource", () => {
    const a = alert("gcp_auditlog", "GCP Bucket updated", {
      "gcp.projectId": "shop-prod",
      "gcp.user": "ci@shop-prod.iam.gserviceaccount.com",
      "gcp.callerIP": "203.0.113.9",
      "gcp.userAgent": "google-cloud-sdk gcloud/480.0.0",
      "gcp.serviceName": "storage.googleapis.com",
      "gcp.methodName": "storage.buckets.update",
      "gcp.storage.bucket": "shop-assets",
    });
    const r = rows(a);
    expect([...r.keys()]).toEqual(["GCP project", "Principal", "Caller", "API call", "Resource", "Time"]);
    expect(r.get("API call")).toBe("`storage.buckets.update`\nservice `storage.googleapis.com`");
    expect(r.get("Resource")).toBe("bucket `shop-assets`");
  });

  it("Okta: actor, target, client and MFA counts", () => {
    const a = alert("okta", "Too many failed MFA in last 5min", {
      "okta.actor.name": "Jane Doe",
      "okta.reason": "INVALID_CREDENTIALS",
      "okta.mfa.failure.countlast[300]": 12,
      "okta.client.ip": "192.0.2.44",
      "okta.target.user.name": "John Roe",
    });
    const r = rows(a);
    expect([...r.keys()]).toEqual(["Actor", "Target", "Client", "Event", "MFA in the last 5 min", "Time"]);
    expect(r.get("MFA in the last 5 min")).toBe("failures `12`");
    expect(r.get("Target")).toBe("user `John Roe`");
    expect(fallbackText(a)).toBe("Critical: Too many failed MFA in last 5min on Okta user Jane Doe");
  });

  it("GitHub: repository, owner, actor and action", () => {
    const a = alert("github", "Add Collaborator to Repository", {
      "github.repo.name": "shop/payments",
      "github.repo.url": "https://github.com/shop/payments",
      "github.owner": "shop",
      "github.org": "shop",
      "github.user": "octocat",
      "github.collaborator.name": "mallory",
      "github.collaborator.role": "admin",
    });
    const r = rows(a);
    expect([...r.keys()]).toEqual(["Repository", "Owner", "Actor", "Action", "Time"]);
    expect(r.get("Action")).toBe("collaborator `mallory`\nrole `admin`");
  });

  it.each(["aws_cloudtrail", "gcp_auditlog", "okta", "github"])(
    "%s alerts show no host, container or pod rows, and name Falco's host in the context instead",
    (source) => {
      const a = alert(source, "Some rule", {
        [`${source === "aws_cloudtrail" ? "ct" : source === "gcp_auditlog" ? "gcp" : source}.user`]: "x",
      });
      const labels = [...rows(a).keys()];
      for (const l of SYSCALL_ROWS) expect(labels).not.toContain(l);
      const message = renderAlertMessage({
        alert: a,
        enrichment: enrich(a, kb),
        triage: noTriage,
        expanded: false,
      });
      expect(JSON.stringify(message.blocks)).toContain("via Falco on `falco-plugins-0`");
    },
  );

  it("recognises a plugin alert without a source by the fields it carries", () => {
    expect(alertFamily({ source: "", outputFields: { "okta.actor.name": "x" } })).toBe("okta");
    expect(alertFamily({ source: "", outputFields: { "proc.name": "x" } })).toBe("syscall");
    expect(alertFamily({ source: "my_plugin", outputFields: { "my.field": "x" } })).toBe("other");
  });

  it("shows an unknown plugin's own fields rather than an empty message", () => {
    const r = rows(alert("my_plugin", "R", { "evt.time": 1, "my.thing": "value", "my.other": null }));
    expect([...r.keys()]).toEqual(["Host", "my.thing", "Time"]);
  });

  it("keeps hostile values inert and within limits in every layout", () => {
    const hostile = "<!channel> <@U024BE7LH> <https://evil.example|x> `".repeat(200);
    for (const source of ["aws_cloudtrail", "gcp_auditlog", "okta", "github"]) {
      const fields: Record<string, FieldValue> = {};
      for (const f of [
        "ct.user",
        "ct.user.arn",
        "ct.region",
        "ct.srcip",
        "s3.bucket",
        "gcp.user",
        "gcp.projectId",
        "gcp.request",
        "gcp.policyDelta",
        "okta.actor.name",
        "okta.target.user.name",
        "okta.reason",
        "github.repo.name",
        "github.user",
        "github.diff.committed_secrets.desc",
      ])
        fields[f] = hostile;
      const a = alert(source, hostile, fields);
      const message = renderAlertMessage({
        alert: a,
        enrichment: enrich(a, kb),
        triage: noTriage,
        expanded: true,
      });
      expect(limitProblems(message.blocks)).toEqual([]);
      // plain_text (the header) is never parsed by Slack; every mrkdwn text must hold no live markup.
      for (const text of mrkdwnTexts(message.blocks))
        expect(text).not.toMatch(/<!channel>|<@U024BE7LH>|<https:\/\/evil/);
    }
  });
});

describe.skipIf(!HAVE_SHARED)("facts of real plugin alerts (skipped when ../shared/falco is absent)", () => {
  const real = (name: string) => {
    const r = parseAlertBody(
      readFileSync(join(SHARED_FALCO, "real-alerts/public-issues", name), "utf8"),
      "json",
    );
    if (!r.ok) throw new Error(`cannot parse ${name}`);
    return r.alerts[0]!;
  };

  it("a 2023 GCP alert that names its bucket and project as json.value[...]", () => {
    const r = rows(real("21-gcp-bucket-configured-public.json"));
    expect(r.get("GCP project")).toBe("`**********`"); // masked by the reporter
    expect(r.get("Resource")).toBe("bucket `ahmed-test`");
    expect(r.get("Principal")).toBe("`ahmed.amin@test.com`");
    expect(r.get("Policy change")).toContain("allUsers");
  });

  it("a Falco 0.43 CloudTrail alert with the account id appended", () => {
    const a = real("38-terraform-managed-resource-modified-cloudtrail.json");
    const r = rows(a);
    expect(r.get("AWS")).toBe("account `230446364776`\nregion `ap-northeast-1`");
    expect(r.get("API call")).toBe("`AuthorizeSecurityGroupIngress`");
    expect(fallbackText(a)).toBe("Warning: Terraform Managed Resource Modified on AWS account 230446364776");
  });
});
