import type { FalcoAlert } from "../src/falco/alert.js";
import { alertSubject, isCloudOrSaas } from "../src/falco/family.js";
import type { Priority } from "../src/falco/priority.js";
import type { Enrichment, FilledStep, MitreRef } from "../src/enrich/enrich.js";
import { codeBlock, escapeMrkdwn, inlineCode, plain, slackDate, truncate, userMention } from "./escape.js";
import { factFields } from "./facts.js";
import {
  type Block,
  type ButtonElement,
  LIMITS,
  type SlackMessage,
  type TextObject,
  limitProblems,
} from "./limits.js";

export const ACTIONS = {
  acknowledge: "falco_acknowledge",
  escalate: "falco_escalate",
  expand: "falco_show_mitigation",
  collapse: "falco_hide_mitigation",
  report: "falco_full_report",
} as const;

export const PRIORITY_EMOJI: Record<Priority, string> = {
  Emergency: ":rotating_light:",
  Alert: ":rotating_light:",
  Critical: ":red_circle:",
  Error: ":large_orange_circle:",
  Warning: ":warning:",
  Notice: ":large_blue_circle:",
  Informational: ":information_source:",
  Debug: ":white_circle:",
};

/** Triage state as the views need it. */
export interface TriageState {
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  escalatedBy: string | null;
  escalatedAt: string | null;
}

export interface AlertView {
  alert: FalcoAlert;
  enrichment: Enrichment;
  triage: TriageState;
  /** The reader asked for the mitigation steps. */
  expanded: boolean;
  /** The steps did not fit in place and were posted as a thread reply. */
  mitigationInThread?: boolean;
  /** When alerts like this one were grouped into this message: how many, when, and what varied. */
  group?: GroupView | null;
}

export interface GroupView {
  occurrences: number;
  firstSeen: string;
  lastSeen: string;
  /** A few distinct values (command lines, files …) seen across the occurrences. */
  samples: string[];
}

export const md = (text: string): TextObject => ({ type: "mrkdwn", text, verbatim: true });
const pt = (text: string, max: number): TextObject => ({
  type: "plain_text",
  text: plain(text, max),
  emoji: true,
});

export { factFields };

export function mitreText(mitre: MitreRef[]): string {
  return mitre
    .map(
      (m) =>
        `<${m.url}|${m.id}>${m.name ? ` ${escapeMrkdwn(m.name)}` : ""}${m.tactics.length ? ` (${m.tactics.join(", ")})` : ""}`,
    )
    .join(" · ");
}

function stateLine(triage: TriageState): string | null {
  const parts: string[] = [];
  if (triage.acknowledgedBy)
    parts.push(
      `:white_check_mark: Acknowledged by ${userMention(triage.acknowledgedBy)}${triage.acknowledgedAt ? ` at ${slackDate(triage.acknowledgedAt)}` : ""}`,
    );
  if (triage.escalatedBy)
    parts.push(
      `:arrow_double_up: Escalated by ${userMention(triage.escalatedBy)}${triage.escalatedAt ? ` at ${slackDate(triage.escalatedAt)}` : ""}`,
    );
  return parts.length ? parts.join("   ") : null;
}

function button(text: string, actionId: string, value: string, style?: "primary" | "danger"): ButtonElement {
  return {
    type: "button",
    text: pt(text, LIMITS.buttonText) as TextObject,
    action_id: actionId,
    value,
    ...(style ? { style } : {}),
  };
}

function actionsBlock(view: AlertView, expandedInPlace: boolean): Block {
  const uuid = view.alert.uuid;
  const elements: ButtonElement[] = [];
  if (!view.triage.acknowledgedBy) elements.push(button("Acknowledge", ACTIONS.acknowledge, uuid, "primary"));
  if (!view.triage.escalatedBy) elements.push(button("Escalate", ACTIONS.escalate, uuid, "danger"));
  elements.push(
    expandedInPlace
      ? button("Hide mitigation steps", ACTIONS.collapse, uuid)
      : button("Show mitigation steps", ACTIONS.expand, uuid),
    button("Full report", ACTIONS.report, uuid),
  );
  return { type: "actions", block_id: `falco_actions`, elements };
}

export function stepText(step: FilledStep, index: number): string {
  const lines = [`${index + 1}. *${escapeMrkdwn(step.title)}*`];
  if (step.command) lines.push(codeBlock(step.command, 1200));
  else if (step.missing.length)
    lines.push(`_Not available for this alert: ${escapeMrkdwn(step.missing.join("; "))}._`);
  if (step.detail) lines.push(escapeMrkdwn(step.detail));
  if (step.snippet) lines.push(codeBlock(step.snippet, 1200));
  if (step.blastRadius) lines.push(`_Blast radius:_ ${escapeMrkdwn(step.blastRadius)}`);
  return lines.join("\n");
}

/** Packs paragraphs into as few sections as the 3000-character limit allows. */
export function sections(title: string, paragraphs: string[]): Block[] {
  const out: Block[] = [];
  let current = `*${title}*`;
  for (const p of paragraphs) {
    const piece = truncate(p, LIMITS.sectionText - 50);
    if (current.length + 1 + piece.length > LIMITS.sectionText) {
      out.push({ type: "section", text: md(current) });
      current = piece;
    } else current += `\n${piece}`;
  }
  out.push({ type: "section", text: md(current) });
  return out;
}

/** The knowledge base's guidance for this alert: investigation, containment, prevention, tuning. */
export function mitigationBlocks(enrichment: Enrichment): Block[] {
  const blocks: Block[] = [];
  if (enrichment.match === "tag" && enrichment.relatedRule)
    blocks.push({
      type: "context",
      elements: [
        md(
          `No entry for this rule yet: guidance borrowed from *${escapeMrkdwn(enrichment.relatedRule)}*, which shares its ATT&CK technique.`,
        ),
      ],
    });
  if (enrichment.investigate.length)
    blocks.push(...sections("How to investigate (read-only)", enrichment.investigate.map(stepText)));
  if (enrichment.contain.length) blocks.push(...sections("Contain", enrichment.contain.map(stepText)));
  if (enrichment.prevent.length) blocks.push(...sections("Prevent", enrichment.prevent.map(stepText)));
  if (enrichment.falsePositives.length)
    blocks.push(
      ...sections(
        "When this fires benignly",
        enrichment.falsePositives.map((t) => `• ${escapeMrkdwn(t)}`),
      ),
    );
  if (enrichment.tuning) {
    const t = enrichment.tuning;
    blocks.push(
      ...sections("Tuning", [
        escapeMrkdwn(t.description),
        t.snippet
          ? codeBlock(t.snippet, 2000)
          : `_Snippet not filled: ${escapeMrkdwn(t.missing.join("; "))}._`,
      ]),
    );
  }
  if (blocks.length === 0)
    blocks.push({
      type: "section",
      text: md(
        "*No vetted steps for this rule yet.* Capture what you can (audit log entries, pod spec, logs, process list) before changing anything, and ask the owner of the account or workload whether this behaviour is expected.",
      ),
    });
  return blocks;
}

function headerAndSummary(view: AlertView): Block[] {
  const { alert, enrichment } = view;
  const blocks: Block[] = [
    {
      type: "header",
      text: pt(`${PRIORITY_EMOJI[alert.priority]} ${alert.priority}: ${alert.rule}`, LIMITS.headerText),
    },
  ];
  const summary = [escapeMrkdwn(truncate(enrichment.summary, 1500))];
  if (enrichment.verdict)
    summary.push(
      `${enrichment.verdict.confidence === "likely" ? ":large_green_circle:" : ":white_circle: *Possibly:*"} *${escapeMrkdwn(enrichment.verdict.label)}.* ${escapeMrkdwn(enrichment.verdict.explanation)}`,
    );
  blocks.push({ type: "section", text: md(truncate(summary.join("\n\n"), LIMITS.sectionText)) });
  return blocks;
}

function contextBlocks(view: AlertView): Block[] {
  const { alert, enrichment } = view;
  const elements: TextObject[] = [];
  if (enrichment.mitre.length) elements.push(md(truncate(`*ATT&CK* ${mitreText(enrichment.mitre)}`, 2000)));
  // Cloud and SaaS events happen elsewhere: the host is only where Falco read them, so it goes here.
  const via =
    alert.hostname && isCloudOrSaas(alert) ? ` via Falco on ${inlineCode(alert.hostname, 100)}` : "";
  elements.push(md(`${escapeMrkdwn(alert.source)}${via} · uuid ${inlineCode(alert.uuid, 130)}`));
  const blocks: Block[] = [{ type: "context", elements }];
  const group = view.group;
  if (group && group.occurrences > 1) {
    const line = [
      `:repeat: *${group.occurrences.toLocaleString("en-US")} occurrences*`,
      `first ${slackDate(group.firstSeen)}`,
      `last ${slackDate(group.lastSeen)}`,
    ].join(" · ");
    const samples = group.samples.slice(0, 5).map((v) => inlineCode(v, 150));
    blocks.push({
      type: "context",
      elements: [
        md(line),
        ...(samples.length > 1 ? [md(truncate(`Seen: ${samples.join(" · ")}`, 1900))] : []),
      ],
    });
  }
  const state = stateLine(view.triage);
  if (state) blocks.push({ type: "context", elements: [md(state)] });
  return blocks;
}

/** One-line notification text: shown in push notifications and where blocks cannot be. */
export function fallbackText(alert: FalcoAlert): string {
  const subject = alertSubject(alert);
  const where = subject ? ` on ${subject}` : "";
  return escapeMrkdwn(truncate(`${alert.priority}: ${alert.rule}${where}`, 500));
}

/**
 * The Slack message for one alert. When expanded, the mitigation steps are shown in place if the
 * whole message still fits Slack's limits; otherwise `mitigationFits` is false and the caller posts
 * them as a thread reply (see `mitigationThreadMessages`).
 */
export function renderAlertMessage(view: AlertView): SlackMessage & { mitigationFits: boolean } {
  const top = headerAndSummary(view);
  const facts: Block = { type: "section", fields: factFields(view.alert) };
  const context = contextBlocks(view);
  const collapsed = (note?: string): Block[] => [
    ...top,
    facts,
    ...context,
    ...(note ? [{ type: "context", elements: [md(note)] } as Block] : []),
    actionsBlock(view, false),
  ];
  if (view.expanded && !view.mitigationInThread) {
    const why: Block = {
      type: "section",
      text: md(truncate(`*Why it matters*\n${escapeMrkdwn(view.enrichment.why)}`, LIMITS.sectionText)),
    };
    const blocks: Block[] = [
      ...top,
      facts,
      why,
      { type: "divider" },
      ...mitigationBlocks(view.enrichment),
      { type: "divider" },
      ...context,
      actionsBlock(view, true),
    ];
    if (limitProblems(blocks).length === 0)
      return { text: fallbackText(view.alert), blocks, mitigationFits: true };
    return { text: fallbackText(view.alert), blocks: collapsed(), mitigationFits: false };
  }
  const note =
    view.expanded && view.mitigationInThread
      ? ":thread: Mitigation steps are in this message's thread."
      : undefined;
  return { text: fallbackText(view.alert), blocks: collapsed(note), mitigationFits: true };
}

/** The mitigation steps as thread replies, split so that each message fits Slack's limits. */
export function mitigationThreadMessages(view: AlertView): SlackMessage[] {
  const all: Block[] = [
    {
      type: "section",
      text: md(truncate(`*Why it matters*\n${escapeMrkdwn(view.enrichment.why)}`, LIMITS.sectionText)),
    },
    ...mitigationBlocks(view.enrichment),
  ];
  const messages: SlackMessage[] = [];
  let current: Block[] = [];
  for (const block of all) {
    if (current.length > 0 && limitProblems([...current, block]).length > 0) {
      messages.push({ text: `Mitigation steps for ${fallbackText(view.alert)}`, blocks: current });
      current = [];
    }
    current.push(block);
  }
  if (current.length)
    messages.push({ text: `Mitigation steps for ${fallbackText(view.alert)}`, blocks: current });
  return messages;
}
