import { ACTIONS } from "./alert-message.js";
import type { HomeSection } from "./home.js";
import { escapeMrkdwn, inlineCode, plain, slackDate, truncate, userMention } from "./escape.js";
import { md } from "./layout.js";
import { type Block, LIMITS, type SlackMessage } from "./limits.js";

/*
 * Silence views: the modal that makes a silence, the line and button an alert message shows while
 * one made from it lasts, the `/falco silences` list, and the thread replies. Every alert value is
 * plain_text within Slack's limits in the modal, escaped mrkdwn elsewhere.
 */

/** The modal's callback id and the ids of its inputs (block id → action id). */
export const SILENCE_MODAL = {
  callbackId: "falco_silence_modal",
  scope: { block: "scope", action: "values" },
  duration: { block: "duration", action: "choice" },
  until: { block: "until", action: "date" },
  reason: { block: "reason", action: "text" },
} as const;

/** The radio choice that uses the date picker. */
export const UNTIL_DATE = "until";

/** Slack's plain_text limits in a modal: option text, modal title, the reason's length. */
const OPTION_TEXT = 75;
export const REASON_MAX = 500;

/** One value the alert carries that the silence can be narrowed to (option value: the field id). */
export interface ScopeChoice {
  field: string;
  label: string;
  value: string;
}

export interface SilenceModalView {
  /** private_metadata: the alert's uuid (the values themselves stay on the server). */
  uuid: string;
  rule: string;
  priority: string;
  scope: ScopeChoice[];
  /** The durations offered: radio value → label. */
  durations: Record<string, string>;
  maxDays: number;
}

type ModalBlock = Block | Record<string, unknown>;

const text = (t: string, max: number) => ({ type: "plain_text" as const, text: plain(t, max), emoji: false });

export function silenceModal(v: SilenceModalView) {
  const options = v.scope.map((s) => ({
    text: text(`${s.label}: ${s.value}`, OPTION_TEXT),
    value: s.field,
  }));
  const durations = [
    ...Object.entries(v.durations).map(([value, label]) => ({ text: text(label, OPTION_TEXT), value })),
    { text: text("Until a date", OPTION_TEXT), value: UNTIL_DATE },
  ];
  const blocks: ModalBlock[] = [
    { type: "section", text: text(`Rule: ${v.rule}`, LIMITS.sectionText) },
    {
      type: "context",
      elements: [
        text(
          `Hides alerts of this rule at priority ${v.priority} or lower that carry every value checked below: they are stored and counted, not posted. Alerts of other rules, or more severe, are always posted.`,
          2000,
        ),
      ],
    },
    options.length
      ? {
          type: "input",
          block_id: SILENCE_MODAL.scope.block,
          optional: true,
          label: text("Only alerts with", 2000),
          hint: text("All checked: the narrowest silence. Uncheck a value to widen it.", 2000),
          element: {
            type: "checkboxes",
            action_id: SILENCE_MODAL.scope.action,
            options,
            initial_options: options,
          },
        }
      : {
          type: "context",
          elements: [
            text("This alert carries no values to narrow the silence to: it covers the whole rule.", 2000),
          ],
        },
    {
      type: "input",
      block_id: SILENCE_MODAL.duration.block,
      label: text("For", 2000),
      element: {
        type: "radio_buttons",
        action_id: SILENCE_MODAL.duration.action,
        options: durations,
        initial_option: durations[0],
      },
    },
    {
      type: "input",
      block_id: SILENCE_MODAL.until.block,
      optional: true,
      label: text("Until (with “Until a date”)", 2000),
      hint: text(`Ends when that date begins (00:00 UTC); at most ${v.maxDays} days away.`, 2000),
      element: { type: "datepicker", action_id: SILENCE_MODAL.until.action },
    },
    {
      type: "input",
      block_id: SILENCE_MODAL.reason.block,
      label: text("Reason", 2000),
      element: {
        type: "plain_text_input",
        action_id: SILENCE_MODAL.reason.action,
        multiline: true,
        max_length: REASON_MAX,
      },
    },
  ];
  return {
    type: "modal" as const,
    callback_id: SILENCE_MODAL.callbackId,
    private_metadata: v.uuid,
    title: text("Silence alerts", 24),
    submit: text("Silence", 24),
    close: text("Cancel", 24),
    blocks,
  };
}

/** A silence as the list and the thread replies show it. */
export interface SilenceSummary {
  id: string;
  rule: string;
  priority: string;
  /** Label and value of each matcher, in order. */
  match: { label: string; value: string }[];
  createdBy: string;
  reason: string;
  endsAt: string;
  /** Alerts it held back so far. */
  held: number;
}

/** "*rule* (Notice or lower) where Host `x`, Namespace `y`", escaped. */
export function silenceScopeText(s: Pick<SilenceSummary, "rule" | "priority" | "match">): string {
  const where = s.match.map((m) => `${escapeMrkdwn(m.label)} ${inlineCode(m.value, 200)}`).join(", ");
  return `*${escapeMrkdwn(truncate(s.rule, 300))}* (${escapeMrkdwn(s.priority)} or lower)${where ? ` where ${where}` : ", every alert"}`;
}

/** The thread's record of a new silence, for ThreadLog (which adds who and when). */
export function silencedWhat(s: SilenceSummary): string {
  return `silenced ${silenceScopeText(s)} until ${slackDate(s.endsAt)}: ${escapeMrkdwn(truncate(s.reason, REASON_MAX))}`;
}

/** The one reply when a silence ends: how many alerts it held back. */
export function silenceEndedMessage(
  s: SilenceSummary,
  ended: { by: string | null; at: string },
): SlackMessage {
  const count = `${s.held.toLocaleString("en-US")} alert${s.held === 1 ? "" : "s"}`;
  const line = ended.by
    ? `:loud_sound: ${userMention(ended.by)} lifted the silence on ${silenceScopeText(s)} at ${slackDate(ended.at)}. It held back ${count}.`
    : `:loud_sound: The silence on ${silenceScopeText(s)} ended at ${slackDate(s.endsAt)}. It held back ${count}.`;
  const t = truncate(line, LIMITS.sectionText);
  return { text: t, blocks: [{ type: "context", elements: [md(t)] }] };
}

/** An active silence as a line of the list and a row of the Home tab: what, until when, who, why. */
export function silenceRowText(s: SilenceSummary): string {
  const body = [
    silenceScopeText(s),
    `until ${slackDate(s.endsAt)} · by ${userMention(s.createdBy)} · held back ${s.held.toLocaleString("en-US")}`,
    `_${escapeMrkdwn(truncate(s.reason, 300))}_`,
  ].join("\n");
  return truncate(body, 1000);
}

/** The Home tab's section of active silences, soonest end first, each with its Unsilence button. */
export function silencesHomeSection(list: SilenceSummary[]): HomeSection {
  return {
    id: "silences",
    title: "Active silences",
    empty: "No active silences: every alert is posted.",
    moreHint: "(/falco silences lists them all)",
    rows: list.map((s) => ({
      key: s.id,
      text: silenceRowText(s),
      buttons: [
        {
          type: "button",
          text: { type: "plain_text", text: "Unsilence", emoji: true },
          action_id: ACTIONS.unsilence,
          value: s.id,
        },
      ],
    })),
  };
}

/** `/falco silences`: the active silences, soonest end first, each with its Unsilence button. */
export function renderSilenceList(list: SilenceSummary[]): SlackMessage {
  if (list.length === 0)
    return {
      text: "No active silences.",
      blocks: [{ type: "section", text: md("No active silences: every alert is posted.") }],
    };
  // A message holds 50 blocks and about 12,000 characters: a title, as many silences as fit, and a
  // note for the rest.
  const blocks: Block[] = [
    { type: "section", text: md(`*${list.length} active silence${list.length === 1 ? "" : "s"}*`) },
  ];
  let chars = 0;
  let shown = 0;
  for (const s of list) {
    const cut = silenceRowText(s);
    if (shown === 48 || chars + cut.length > LIMITS.messageChars - 1000) break;
    chars += cut.length;
    shown++;
    blocks.push({
      type: "section",
      block_id: `silence-${s.id}`,
      text: md(cut),
      accessory: {
        type: "button",
        text: { type: "plain_text", text: "Unsilence", emoji: true },
        action_id: ACTIONS.unsilence,
        value: s.id,
      },
    } as Block);
  }
  if (list.length > shown)
    blocks.push({
      type: "context",
      elements: [md(`${list.length - shown} more, ending later: see \`GET /silences\`.`)],
    });
  return { text: `${list.length} active silences`, blocks };
}
