import { type FalcoAlert, fieldText } from "../falco/alert.js";
import { type AlertFamily, alertFamily } from "../falco/family.js";
import { PRIORITIES, type Priority } from "../falco/priority.js";
import { ACTOR_CHOSEN_FIELDS } from "./actor-fields.js";
import type {
  BenignPattern,
  FieldTest,
  KnowledgeBase,
  KnowledgeEntry,
  Step,
  StepPlace,
} from "./knowledge.js";
import { relatedByTechnique, techniquesIn } from "./knowledge.js";
import { fillCommand, fillTuning, isAbsent, type ProcessPlace, processPlace } from "./placeholders.js";

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
  /**
   * `likely` when the pattern rests on at least one field the process cannot choose (where it ran,
   * its executable's path, its parent's executable); `possible` when every field it rests on is text
   * the process or the requester sets itself (process names, command lines, object names).
   */
  confidence: "likely" | "possible";
}

/** Whether a test rests on text the actor chooses (`proc.aname[2]` counts as `proc.aname`). */
export function isActorChosen(test: FieldTest): boolean {
  const base = test.field.replace(/\[.*\]$/, "");
  if (ACTOR_CHOSEN_FIELDS.includes(base)) return true;
  // A memfd's "path" is the name its creator passed to memfd_create.
  if (base === "proc.exepath" || base === "proc.pexepath" || base === "proc.aexepath") {
    const values = test.equals ?? [test.starts_with ?? ""];
    return values.some((v) => v.startsWith("memfd:") || !v.startsWith("/"));
  }
  return false;
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

/** Whether a step's place fits where the alert's process ran (see StepSchema's `where`). */
export function stepApplies(where: StepPlace | undefined, alert: FalcoAlert, place: ProcessPlace): boolean {
  switch (where) {
    case "host":
      return place === "host";
    case "pod":
      return !isAbsent(alert.outputFields["k8s.pod.name"]) && !isAbsent(alert.outputFields["k8s.ns.name"]);
    case "container":
      return place === "docker" || place === "cri" || place === "container";
    case "docker":
      return place === "docker" || place === "container";
    case "cri":
      return place === "cri" || place === "container";
    default:
      return true;
  }
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

/**
 * The steps that apply where the alert's process ran (a host-side command never shows for a
 * container's process), each command once; each kept step that needs a field the alert lacks says
 * so instead of showing a hole.
 */
function fillSection(steps: Step[], alert: FalcoAlert): FilledStep[] {
  const place = processPlace(alert);
  const shown = new Set<string>();
  return steps
    .filter((s) => stepApplies(s.where, alert, place))
    .map((s) => fillStep(s, alert))
    .filter((s) => {
      // Two shared steps can come down to one command where they apply (docker-top and
      // container-processes on a containerd node): show it once.
      if (s.command === null) return true;
      if (shown.has(s.command)) return false;
      shown.add(s.command);
      return true;
    });
}

function passes(test: FieldTest, alert: FalcoAlert): boolean {
  const value = alert.outputFields[test.field];
  if (isAbsent(value)) return false;
  const text = fieldText(value);
  if (test.equals) return test.equals.includes(text);
  return test.starts_with !== undefined && text.startsWith(test.starts_with);
}

function matchesPattern(pattern: BenignPattern, alert: FalcoAlert): boolean {
  return pattern.when.every((t) => passes(t, alert));
}

function verdictOf(pattern: BenignPattern): Verdict {
  const likely = pattern.when.some((t) => !isActorChosen(t));
  return {
    id: pattern.id,
    label: pattern.label,
    explanation: likely
      ? pattern.explanation
      : `${pattern.explanation} Possible only: this rests on ${[...new Set(pattern.when.map((t) => `\`${t.field}\``))].join(" and ")}, which the actor chooses, so confirm it before trusting it.`,
    confidence: likely ? "likely" : "possible",
  };
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

function fromEntry(entry: KnowledgeEntry, alert: FalcoAlert, kb: KnowledgeBase): Enrichment {
  const pattern = entry.benign_patterns.find((p) => matchesPattern(p, alert));
  const tuning = entry.tuning ? fillTuning(entry.tuning.snippet, alert) : null;
  return {
    knowledgeId: entry.id,
    match: "rule",
    relatedRule: null,
    mitre: mitreRefs(entry.mitre, kb),
    summary: entry.summary,
    why: entry.why,
    verdict: pattern ? verdictOf(pattern) : null,
    investigate: fillSection(entry.investigate, alert),
    contain: fillSection(entry.contain, alert),
    prevent: fillSection(entry.prevent, alert),
    falsePositives: entry.false_positives,
    tuning:
      entry.tuning && tuning
        ? {
            description: entry.tuning.description,
            snippet: tuning.text,
            missing: [...tuning.missing, ...tuning.withheld],
          }
        : null,
    references: entry.references,
  };
}

/** Read-only shared steps worth running for any alert of a family, when no entry explains its rule. */
const GENERIC_INVESTIGATION: Record<AlertFamily, string[]> = {
  syscall: ["describe-pod", "pod-events", "pod-logs", "container-processes", "crictl-inspect"],
  k8s_audit: ["audit-log-user", "audit-user-permissions"],
  aws_cloudtrail: ["aws-caller-identity", "aws-user-events"],
  gcp_auditlog: ["gcp-principal-activity", "gcp-caller-ip-activity"],
  okta: ["okta-actor-events", "okta-client-ip-events"],
  github: ["github-audit-log-actor", "github-audit-log-repo"],
  other: ["describe-pod", "pod-events", "pod-logs", "container-processes", "crictl-inspect"],
};

function fallback(alert: FalcoAlert, kb: KnowledgeBase): Enrichment {
  const reported = outputText(alert);
  const generic = GENERIC_INVESTIGATION[alertFamily(alert)].flatMap((id) => kb.shared[id] ?? []);
  return {
    knowledgeId: null,
    match: "fallback",
    relatedRule: null,
    mitre: mitreRefs(techniquesIn(alert.tags), kb),
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

  const borrowed = relatedByTechnique(kb, alert.tags);
  const base = fallback(alert, kb);
  if (!borrowed) return base;
  const related = borrowed.entry;
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
