import { type FalcoAlert, fieldText } from "../falco/alert.js";
import { type AlertFamily, alertFamily } from "../falco/family.js";
import { PRIORITIES, type Priority } from "../falco/priority.js";
import type { BenignPattern, KnowledgeBase, KnowledgeEntry, Step } from "./knowledge.js";
import { fillCommand, fillTemplate, isAbsent, yamlQuote } from "./placeholders.js";

export type MatchKind = "rule" | "tag" | "fallback";

export interface MitreRef {
  id: string;
  name: string | null;
  tactics: string[];
  url: string;
}

/** A knowledge-base step filled with one alert's values. */
export interface FilledStep {
  title: string;
  /** The runnable command, or null when it needs a field the alert lacks (see `missing`). */
  command: string | null;
  detail: string | null;
  snippet: string | null;
  blastRadius: string | null;
  /** Plain reasons a command could not be filled ("the alert carries no k8s.pod.name"). */
  missing: string[];
}

export interface Verdict {
  id: string;
  label: string;
  explanation: string;
}

export interface Enrichment {
  knowledgeId: string | null;
  match: MatchKind;
  /** For a `tag` match: the rule whose guidance was borrowed. */
  relatedRule: string | null;
  mitre: MitreRef[];
  summary: string;
  why: string;
  verdict: Verdict | null;
  investigate: FilledStep[];
  contain: FilledStep[];
  prevent: FilledStep[];
  falsePositives: string[];
  tuning: { description: string; snippet: string | null; missing: string[] } | null;
  references: { title: string; url: string }[];
}

const TECHNIQUE_TAG = /^T\d{4}(\.\d{3})?$/;
const OUTPUT_PREFIX = new RegExp(
  `^(?:\\S*\\d{2}:\\d{2}:\\d{2}(?:\\.\\d+)?\\S*)?:\\s+(?:${PRIORITIES.join("|")})\\s+`,
  "i",
);

/** Falco's output without the "time: Priority " prefix it puts in front of every rule's text. */
export function outputText(alert: FalcoAlert): string {
  return alert.output.replace(OUTPUT_PREFIX, "").trim();
}

export function mitreRefs(ids: string[], kb: KnowledgeBase): MitreRef[] {
  return [...new Set(ids)].map((id) => {
    const known = kb.mitre.techniques[id];
    return {
      id,
      name: known?.name ?? null,
      tactics: known?.tactics ?? [],
      url: `https://attack.mitre.org/techniques/${id.replace(".", "/")}/`,
    };
  });
}

function fillStep(step: Step, alert: FalcoAlert): FilledStep {
  const command = step.command ? fillCommand(step.command, alert) : null;
  return {
    title: step.title,
    command: command?.text ?? null,
    detail: step.detail ?? null,
    snippet: step.snippet ?? null,
    blastRadius: step.blast_radius ?? null,
    missing: command?.missing ?? [],
  };
}

/** Every step is kept: one that needs a field the alert lacks says so instead of showing a hole. */
function fillSection(steps: Step[], alert: FalcoAlert): FilledStep[] {
  return steps.map((s) => fillStep(s, alert));
}

function matchesPattern(pattern: BenignPattern, alert: FalcoAlert): boolean {
  const value = alert.outputFields[pattern.field];
  if (isAbsent(value)) return false;
  const text = fieldText(value);
  if (pattern.equals) return pattern.equals.includes(text);
  return pattern.starts_with !== undefined && text.startsWith(pattern.starts_with);
}

const PRIORITY_MEANING: Record<Priority, string> = {
  Emergency: "Falco rates this Emergency, its highest level: treat it as an incident until explained.",
  Alert: "Falco rates this Alert: act on it now, and treat it as an incident until explained.",
  Critical: "Falco rates this Critical: rules at this level detect behaviour that is rarely benign.",
  Error: "Falco rates this Error: a change that is worth confirming with the workload's owner today.",
  Warning: "Falco rates this Warning: suspicious, but often explained by normal administration.",
  Notice:
    "Falco rates this Notice: an audit signal; most valuable next to other alerts for the same workload.",
  Informational: "Falco rates this Informational: a record of activity rather than a sign of attack.",
  Debug: "Falco rates this Debug: diagnostic output, not a security finding.",
};

function techniquesFromTags(alert: FalcoAlert): string[] {
  return alert.tags.filter((t) => TECHNIQUE_TAG.test(t));
}

function fromEntry(entry: KnowledgeEntry, alert: FalcoAlert, kb: KnowledgeBase): Enrichment {
  const pattern = entry.benign_patterns.find((p) => matchesPattern(p, alert));
  const tuning = entry.tuning ? fillTemplate(entry.tuning.snippet, alert, yamlQuote) : null;
  return {
    knowledgeId: entry.id,
    match: "rule",
    relatedRule: null,
    mitre: mitreRefs(entry.mitre, kb),
    summary: entry.summary,
    why: entry.why,
    verdict: pattern ? { id: pattern.id, label: pattern.label, explanation: pattern.explanation } : null,
    investigate: fillSection(entry.investigate, alert),
    contain: fillSection(entry.contain, alert),
    prevent: fillSection(entry.prevent, alert),
    falsePositives: entry.false_positives,
    tuning:
      entry.tuning && tuning
        ? { description: entry.tuning.description, snippet: tuning.text, missing: tuning.missing }
        : null,
    references: entry.references,
  };
}

/** Read-only shared steps worth running for any alert of a family, when no entry explains its rule. */
const GENERIC_INVESTIGATION: Record<AlertFamily, string[]> = {
  syscall: ["describe-pod", "pod-events", "pod-logs", "docker-top", "crictl-inspect"],
  k8s_audit: ["audit-log-user", "audit-user-permissions"],
  aws_cloudtrail: ["aws-caller-identity", "aws-user-events"],
  gcp_auditlog: ["gcp-principal-activity", "gcp-caller-ip-activity"],
  okta: ["okta-actor-events", "okta-client-ip-events"],
  github: ["github-audit-log-actor", "github-audit-log-repo"],
  other: ["describe-pod", "pod-events", "pod-logs", "docker-top", "crictl-inspect"],
};

function fallback(alert: FalcoAlert, kb: KnowledgeBase): Enrichment {
  const reported = outputText(alert);
  const generic = GENERIC_INVESTIGATION[alertFamily(alert)].flatMap((id) =>
    kb.shared[id] ? [kb.shared[id]] : [],
  );
  return {
    knowledgeId: null,
    match: "fallback",
    relatedRule: null,
    mitre: mitreRefs(techniquesFromTags(alert), kb),
    summary: reported ? `Falco reported: ${reported}` : `Falco rule "${alert.rule}" matched.`,
    why: PRIORITY_MEANING[alert.priority],
    verdict: null,
    investigate: fillSection(generic, alert).filter((s) => s.command !== null),
    contain: [],
    prevent: [],
    falsePositives: [],
    tuning: null,
    references: [],
  };
}

/**
 * Pure: what the knowledge base says about one alert. A rule with its own entry gets that entry
 * (`rule`); otherwise an entry covering one of the alert's ATT&CK techniques lends its explanation
 * and read-only investigation steps (`tag`), never its containment, which was written for another
 * rule; otherwise the alert is explained from its priority, tags and fields (`fallback`).
 */
export function enrich(alert: FalcoAlert, kb: KnowledgeBase): Enrichment {
  const entry = kb.byRule.get(alert.rule);
  if (entry) return fromEntry(entry, alert, kb);

  const techniques = techniquesFromTags(alert);
  const related = kb.entries.find((e) => e.mitre.some((t) => techniques.includes(t)));
  const base = fallback(alert, kb);
  if (!related) return base;
  return {
    ...base,
    knowledgeId: related.id,
    match: "tag",
    relatedRule: related.rules[0] ?? null,
    why: `${PRIORITY_MEANING[alert.priority]} ${related.why}`,
    investigate: fillSection(related.investigate, alert).filter(
      (s) => s.command !== null || s.detail !== null,
    ),
    references: related.references.filter((r) => r.url.includes("attack.mitre.org")),
  };
}
