import type { FalcoAlert } from "../falco/alert.js";
import { isCloudOrSaas } from "../falco/family.js";
import { VERDICT_LABELS, type Verdict } from "../falco/verdict.js";
import { type Enrichment, type FilledStep, outputText } from "../enrich/enrich.js";
import { explainAlertFields } from "../enrich/fields.js";
import type { KnowledgeBase } from "../enrich/knowledge.js";
import { type Observation, observe } from "./observations.js";

/**
 * The written incident report for one alert, as data. Renderers (Markdown, HTML, Block Kit) decide
 * how to escape and lay it out; nothing here is formatted. Values from the alert are kept apart from
 * the knowledge base's prose so that every renderer can treat them as untrusted text.
 */
export interface IncidentReport {
  title: string;
  summary: { text: string; why: string; verdict: string | null; output: string };
  details: { label: string; value: string }[];
  breakdown: {
    field: string;
    value: string;
    label: string | null;
    meaning: string | null;
    readings: string[];
  }[];
  observations: Observation[];
  mitre: { id: string; name: string | null; tactics: string[]; url: string }[];
  investigate: FilledStep[];
  contain: FilledStep[];
  prevent: FilledStep[];
  falsePositives: string[];
  tuning: Enrichment["tuning"];
  nextSteps: string[];
  references: { title: string; url: string }[];
  /** How the incident ended, once someone resolved it in Slack. */
  outcome: ReportOutcome | null;
  /** Said when Falco on the alert's host dropped events around it (src/health), in words. */
  partialVisibility?: string | null;
}

/** A resolution as the report states it. */
export interface ReportOutcome {
  verdict: Verdict;
  /** The verdict in words. */
  label: string;
  /** Slack user id of who resolved it. */
  by: string;
  at: string;
  /** Their note, untrusted text. */
  note: string | null;
}

function nextSteps(alert: FalcoAlert, enrichment: Enrichment): string[] {
  const steps: string[] = [];
  const cloud = isCloudOrSaas(alert);
  const owner = cloud ? "the account's owner" : "the workload's owner";
  const runnable = enrichment.investigate.filter((s) => s.command !== null).length;
  if (enrichment.verdict)
    steps.push(
      `Confirm the known-benign explanation above (${enrichment.verdict.label.replace(/\.$/, "")}); if it holds, apply the tuning below so this case stops alerting.`,
    );
  if (runnable > 0)
    steps.push(
      `Run the ${runnable === 1 ? "investigation command" : `${runnable} investigation commands`} above; they only read.`,
    );
  else
    steps.push(
      cloud
        ? "Find the person or automation behind the account in the alert; this alert carries too little to run commands on."
        : "Find the workload and the person or job behind it; this alert carries too little to run commands on.",
    );
  if (enrichment.contain.length > 0)
    steps.push(
      "If it is not explained by a change you know about, capture evidence first, then contain (each step names its blast radius).",
    );
  steps.push(
    "Record the outcome in Slack: Acknowledge when you own it, Escalate when it needs the incident channel, Resolve with a verdict when it is over.",
  );
  if (enrichment.tuning && !enrichment.verdict)
    steps.push(
      "If it turns out benign and recurring, apply the tuning snippet rather than ignoring the alerts.",
    );
  if (enrichment.prevent.length > 0) steps.push(`Schedule the prevention steps with ${owner}.`);
  if (alert.uuidGenerated)
    steps.push(
      "Refer to this alert by the uuid above: Falco's http_output sent none, so falco-chatops generated it.",
    );
  return steps;
}

export function buildReport(
  alert: FalcoAlert,
  enrichment: Enrichment,
  kb: KnowledgeBase,
  /** How the alert's incident ended (its group's first alert's resolution), when it is resolved. */
  resolution: { verdict: Verdict; by: string; at: string; note: string | null } | null = null,
): IncidentReport {
  const details: { label: string; value: string }[] = [
    { label: "Alert uuid", value: alert.uuid },
    { label: "Rule", value: alert.rule },
    { label: "Priority", value: alert.priority },
    { label: "Time", value: alert.time },
    // For cloud and SaaS events the host is only where Falco read them.
    ...(alert.hostname
      ? [{ label: isCloudOrSaas(alert) ? "Falco host" : "Host", value: alert.hostname }]
      : []),
    { label: "Source", value: alert.source },
    ...(alert.tags.length > 0 ? [{ label: "Tags", value: alert.tags.join(", ") }] : []),
  ];
  const breakdown = explainAlertFields(alert, kb.fields)
    .filter((f) => f.value !== null)
    .map((f) => ({ ...f, value: f.value! }));
  return {
    title: `${alert.priority}: ${alert.rule}`,
    summary: {
      text: enrichment.summary,
      why: enrichment.why,
      verdict: enrichment.verdict
        ? `${enrichment.verdict.confidence === "possible" ? "Possibly: " : ""}${enrichment.verdict.label}. ${enrichment.verdict.explanation}`
        : null,
      output: outputText(alert),
    },
    details,
    breakdown,
    observations: observe(alert, enrichment),
    mitre: enrichment.mitre,
    investigate: enrichment.investigate,
    contain: enrichment.contain,
    prevent: enrichment.prevent,
    falsePositives: enrichment.falsePositives,
    tuning: enrichment.tuning,
    nextSteps: nextSteps(alert, enrichment),
    references: enrichment.references,
    outcome: resolution ? { ...resolution, label: VERDICT_LABELS[resolution.verdict] } : null,
  };
}
