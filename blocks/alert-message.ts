import type { FalcoAlert } from "../src/falco/alert.js";
import { isCloudOrSaas } from "../src/falco/family.js";
import type { Enrichment, MitreRef } from "../src/enrich/enrich.js";
import { PRIORITY_EMOJI, fallbackText } from "./alert-line.js";
import { codeBlock, escapeMrkdwn, inlineCode, slackDate, truncate, userMention } from "./escape.js";
import { factFields } from "./facts.js";
import { button, md, plainText, sections, splitIntoMessages } from "./layout.js";
import {
  type Block,
  type ButtonElement,
  LIMITS,
  type SlackMessage,
  type TextObject,
  limitProblems,
} from "./limits.js";
import { invitesTuning } from "../src/falco/verdict.js";
import {
  noteLine,
  type PreviousOccurrenceView,
  previousOccurrenceLine,
  type ResolutionView,
  resolvedLine,
} from "./resolution.js";
import { stepText } from "./steps.js";
import type { TriageState } from "./triage.js";
import type { VisibilityLoss } from "../src/health/state.js";
import { partialVisibilityBlocks } from "./visibility.js";

export const ACTIONS = {
  acknowledge: "falco_acknowledge",
  escalate: "falco_escalate",
  expand: "falco_show_mitigation",
  collapse: "falco_hide_mitigation",
  report: "falco_full_report",
  take: "falco_take",
  assign: "falco_assign",
  resolve: "falco_resolve",
  reopen: "falco_reopen",
  /** Offered on alerts resolved as false positive or expected activity. */
  tune: "falco_tune",
  silence: "falco_silence",
  unsilence: "falco_unsilence",
} as const;

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
  /** How the alert ended, once resolved: the message shows it and offers Reopen instead of triage. */
  resolution?: ResolutionView | null;
  /** The resolved earlier occurrence whose group this alert would have joined. */
  previous?: PreviousOccurrenceView | null;
  /** A silence made from this alert, while it lasts: its id, end (ISO 8601) and maker. */
  silence?: { id: string; until: string; by: string } | null;
  /** Events Falco on the alert's host dropped around it (see blocks/visibility.ts). */
  visibility?: VisibilityLoss | null;
}

export interface GroupView {
  occurrences: number;
  firstSeen: string;
  lastSeen: string;
  /** A few distinct values (command lines, files …) seen across the occurrences. */
  samples: string[];
}

function mitreText(mitre: MitreRef[]): string {
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
  if (triage.ownedBy) parts.push(ownerText(triage));
  return parts.length ? parts.join("   ") : null;
}

/** "Owned by @someone since …", for the message, the lookup and the Home tab. */
export function ownerText(triage: TriageState): string {
  return triage.ownedBy
    ? `:bust_in_silhouette: Owned by ${userMention(triage.ownedBy)}${triage.ownedAt ? ` since ${slackDate(triage.ownedAt)}` : ""}`
    : "";
}

function actionsBlock(view: AlertView, expandedInPlace: boolean): Block {
  const uuid = view.alert.uuid;
  const elements: ButtonElement[] = [];
  if (view.resolution) {
    elements.push(button("Reopen", ACTIONS.reopen, uuid));
    if (invitesTuning(view.resolution.verdict)) elements.push(button("Tune", ACTIONS.tune, uuid));
  } else {
    if (!view.triage.acknowledgedBy)
      elements.push(button("Acknowledge", ACTIONS.acknowledge, uuid, "primary"));
    if (!view.triage.escalatedBy) elements.push(button("Escalate", ACTIONS.escalate, uuid, "danger"));
    elements.push(button("Resolve", ACTIONS.resolve, uuid));
  }
  // Once the steps went to the thread (they did not fit the message), the note says where they
  // are and a Show button would do nothing.
  if (expandedInPlace) elements.push(button("Hide mitigation steps", ACTIONS.collapse, uuid));
  else if (!(view.expanded && view.mitigationInThread))
    elements.push(button("Show mitigation steps", ACTIONS.expand, uuid));
  elements.push(button("Full report", ACTIONS.report, uuid));
  // Ownership is for open alerts: a resolved one has nothing left to take.
  if (!view.resolution)
    elements.push(button("Take it", ACTIONS.take, uuid), button("Assign…", ACTIONS.assign, uuid));
  elements.push(
    view.silence
      ? button("Unsilence", ACTIONS.unsilence, view.silence.id)
      : button("Silence", ACTIONS.silence, uuid),
  );
  return { type: "actions", block_id: `falco_actions`, elements };
}

/** The knowledge base's guidance for this alert: investigation, containment, prevention, tuning. */
function mitigationBlocks(enrichment: Enrichment): Block[] {
  const blocks: Block[] = [];
  if (enrichment.match === "tag" && enrichment.relatedRule)
    blocks.push({
      type: "context",
      elements: [
        md(
          `No entry for this rule yet: guidance borrowed from *${escapeMrkdwn(enrichment.relatedRule)}*, which shares its ATT&amp;CK technique.`,
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
      text: plainText(
        `${PRIORITY_EMOJI[alert.priority]} ${alert.priority}: ${alert.rule}`,
        LIMITS.headerText,
      ),
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
  if (enrichment.mitre.length)
    elements.push(md(truncate(`*ATT&amp;CK* ${mitreText(enrichment.mitre)}`, 2000)));
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
  if (view.resolution) {
    const note = noteLine(view.resolution);
    blocks.push({
      type: "context",
      elements: [md(resolvedLine(view.resolution)), ...(note ? [md(note)] : [])],
    });
  }
  if (view.previous) blocks.push({ type: "context", elements: [md(previousOccurrenceLine(view.previous))] });
  if (view.silence)
    blocks.push({
      type: "context",
      elements: [
        md(
          `:mute: Silenced until ${slackDate(view.silence.until)} by ${userMention(view.silence.by)}: matching alerts are stored and counted, not posted`,
        ),
      ],
    });
  blocks.push(...partialVisibilityBlocks(view.visibility));
  return blocks;
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
  return splitIntoMessages(all).map((blocks) => ({
    text: `Mitigation steps for ${fallbackText(view.alert)}`,
    blocks,
  }));
}
