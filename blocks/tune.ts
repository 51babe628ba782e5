import type { FalcoAlert } from "../src/falco/alert.js";
import { falcoStringLiteral } from "../src/enrich/falco-literal.js";
import {
  type Comp,
  compsFor,
  type ExceptionValue,
  MAX_INPUT_CHARS,
  type OfferedField,
  type TuningException,
} from "../src/tuning/exception.js";
import type { Counted, ReplayResult } from "../src/tuning/replay.js";
import type { HomeSection } from "./home.js";
import { escapeMrkdwn, inlineCode, plain, slackDate, truncate, userMention } from "./escape.js";
import { md } from "./layout.js";
import { type ButtonElement, LIMITS, type SlackMessage, type TextObject } from "./limits.js";

/*
 * The Tune flow's views: the modal that builds a Falco exception from an alert, the replay shown
 * before saving, and the list of saved exceptions (`/falco tuning`). Pure functions of data; every
 * alert value is escaped (mrkdwn) or cut to Slack's plain_text limits.
 */

export const TUNE_CALLBACKS = {
  /** The form: submitting it replays the exception. */
  replay: "falco_tune_replay",
  /** The replay: submitting it saves the exception. */
  save: "falco_tune_save",
} as const;

export const TUNING_ACTIONS = {
  withdraw: "falco_tuning_withdraw",
} as const;

/** The single action id of every input in the Tune form (Slack keys state by block id, then action id). */
export const INPUT_ACTION = "value";
export const NAME_BLOCK = "name";
export const INCLUDE_OPTION = "include";
/** The block ids of one field's row. */
export const rowBlocks = (i: number) => ({ include: `f${i}_use`, comp: `f${i}_op`, value: `f${i}_value` });

/** Slack's limits for what modals show as plain_text. */
const PLAIN = { label: 2000, hint: 2000, option: 75, title: 24, button: 75 } as const;

export interface ModalView {
  type: "modal";
  callback_id: string;
  private_metadata: string;
  title: TextObject;
  submit?: TextObject;
  close?: TextObject;
  blocks: Record<string, unknown>[];
}

const text = (t: string, max: number): TextObject => ({ type: "plain_text", text: plain(t, max) });

const COMP_LABEL: Record<Comp, string> = {
  "=": "= (equals)",
  in: "in (any of a list)",
  startswith: "startswith (begins with)",
};

function compOption(comp: Comp) {
  return { text: text(COMP_LABEL[comp], PLAIN.option), value: comp };
}

/** What the form's private_metadata carries: the alert and the fields of its rows, in order. */
export interface TuneFormMeta {
  uuid: string;
  fields: string[];
}

export interface TuneFormView {
  alert: FalcoAlert;
  offered: OfferedField[];
  /** The exception name the form starts with. */
  name: string;
}

/** The Tune modal: one row per offered field (include, operator, value) and the exception's name. */
export function renderTuneModal({ alert, offered, name }: TuneFormView): ModalView {
  const meta: TuneFormMeta = { uuid: alert.uuid, fields: offered.map((o) => o.field) };
  const blocks: Record<string, unknown>[] = [
    {
      type: "section",
      text: md(
        truncate(
          `*Falco exception for ${inlineCode(alert.rule, 200)}*\n` +
            "Tick the fields that identify this benign activity, choose how each is compared, and press " +
            "*Replay* to see which stored alerts of the rule it would have hidden before you save it. " +
            "Command lines, arguments and process names are not offered: the process chooses them itself.",
          LIMITS.sectionText,
        ),
      ),
    },
    {
      type: "input",
      block_id: NAME_BLOCK,
      label: text("Exception name", PLAIN.label),
      hint: text(
        "A word (letters, digits, underscores), different from the rule's own exception names.",
        PLAIN.hint,
      ),
      element: { type: "plain_text_input", action_id: INPUT_ACTION, initial_value: name, max_length: 64 },
    },
  ];
  offered.forEach((o, i) => {
    const ids = rowBlocks(i);
    const comps = compsFor(o.field);
    blocks.push(
      { type: "divider" },
      {
        type: "input",
        block_id: ids.include,
        optional: true,
        label: text(o.field, PLAIN.label),
        element: {
          type: "checkboxes",
          action_id: INPUT_ACTION,
          options: [{ text: text(`Include ${o.field}`, PLAIN.option), value: INCLUDE_OPTION }],
          ...(o.suggested
            ? { initial_options: [{ text: text(`Include ${o.field}`, PLAIN.option), value: INCLUDE_OPTION }] }
            : {}),
        },
      },
      {
        type: "input",
        block_id: ids.comp,
        label: text(`${o.field}: operator`, PLAIN.label),
        element: {
          type: "static_select",
          action_id: INPUT_ACTION,
          options: comps.map(compOption),
          initial_option: compOption("="),
        },
      },
      {
        type: "input",
        block_id: ids.value,
        label: text(`${o.field}: value`, PLAIN.label),
        hint: text(
          comps.includes("in")
            ? "For `in`, separate the values with commas. For startswith, the beginning of the value."
            : "The value to compare with.",
          PLAIN.hint,
        ),
        element: {
          type: "plain_text_input",
          action_id: INPUT_ACTION,
          initial_value: o.value,
          max_length: MAX_INPUT_CHARS,
        },
      },
    );
  });
  if (offered.length === 0)
    blocks.push({
      type: "section",
      text: md(
        "This alert carries no field an exception can be keyed on safely, so it cannot be tuned here.",
      ),
    });
  return {
    type: "modal",
    callback_id: TUNE_CALLBACKS.replay,
    private_metadata: JSON.stringify(meta),
    title: text("Tune this rule", PLAIN.title),
    ...(offered.length > 0 ? { submit: text("Replay", PLAIN.button) } : {}),
    close: text("Cancel", PLAIN.button),
    blocks,
  };
}

/** The modal while the replay runs: Slack wants the submission answered within 3 seconds. */
export function renderReplayingView(rule: string): ModalView {
  return {
    type: "modal",
    callback_id: TUNE_CALLBACKS.save,
    private_metadata: "",
    title: text("Tune this rule", PLAIN.title),
    close: text("Cancel", PLAIN.button),
    blocks: [
      {
        type: "section",
        text: md(`Replaying the exception against the stored alerts of ${inlineCode(rule, 200)}…`),
      },
    ],
  };
}

function literalText(value: string): string {
  const written = falcoStringLiteral(value);
  return "literal" in written ? written.literal : value;
}

function valueText(value: ExceptionValue): string {
  return Array.isArray(value) ? `(${value.map(literalText).join(", ")})` : literalText(value);
}

/** The exception's test as Falco will read it, e.g. `proc.exepath = "/usr/bin/x" and …`. */
export function exceptionTest(ex: Pick<TuningException, "fields" | "comps" | "values">): string {
  return ex.fields.map((f, i) => `${f} ${ex.comps[i]} ${valueText(ex.values[i]!)}`).join(" and ");
}

function countedList(items: Counted[], more: number): string {
  const listed = items.map((c) => `${inlineCode(c.name, 80)} (${c.count})`).join(", ");
  return more > 0 ? `${listed} and ${more} more` : listed;
}

export interface ReplayViewInput {
  exception: Pick<TuningException, "rule" | "name" | "fields" | "comps" | "values">;
  replay: ReplayResult;
  /** Where the draft waits for Save. */
  draftId: string;
  retentionDays: number;
}

/** The replay: what the exception would have hidden among the rule's stored alerts, with Save. */
export function renderReplayView({ exception, replay, draftId, retentionDays }: ReplayViewInput): ModalView {
  const figures =
    replay.replayed === 0
      ? `No alert of this rule is stored (alerts are kept ${retentionDays} days), so the replay has nothing to show.`
      : `It would have hidden *${replay.hidden}* of the rule's *${replay.replayed}* stored alerts ` +
        `(the last ${retentionDays} days) and still let *${replay.passed}* through.`;
  const blocks: Record<string, unknown>[] = [
    {
      type: "section",
      text: md(
        truncate(
          `*Exception ${inlineCode(exception.name, 64)} for ${inlineCode(exception.rule, 200)}*\n` +
            `Hides an alert when ${inlineCode(exceptionTest(exception), 2000)}`,
          LIMITS.sectionText,
        ),
      ),
    },
    { type: "section", text: md(figures) },
  ];
  if (replay.hidden > 0) {
    blocks.push({
      type: "section",
      fields: [
        md(truncate(`*Hosts*\n${countedList(replay.hosts, replay.moreHosts)}`, LIMITS.sectionFieldText)),
        md(
          truncate(
            `*Workloads*\n${countedList(replay.workloads, replay.moreWorkloads)}`,
            LIMITS.sectionFieldText,
          ),
        ),
        md(`*First seen*\n${slackDate(replay.firstSeen ?? "")}`),
        md(`*Last seen*\n${slackDate(replay.lastSeen ?? "")}`),
      ],
    });
    blocks.push({
      type: "section",
      text: md(
        truncate(
          `*Latest hidden alerts*\n${replay.examples
            .map(
              (e) =>
                `• ${inlineCode(e.uuid, 40)} ${slackDate(e.time)}: ${escapeMrkdwn(truncate(e.output.replace(/\s+/g, " "), 300))}`,
            )
            .join("\n")}`,
          LIMITS.sectionText,
        ),
      ),
    });
  }
  blocks.push({
    type: "context",
    elements: [
      md(
        "Saving stops this bot posting matching alerts at once, and adds the exception to the tuning rules " +
          "file (`GET /tuning/falco-rules.yaml`) for Falco to load. `/falco tuning` lists and withdraws it.",
      ),
    ],
  });
  return {
    type: "modal",
    callback_id: TUNE_CALLBACKS.save,
    private_metadata: draftId,
    title: text("Tune this rule", PLAIN.title),
    submit: text("Save", PLAIN.button),
    close: text("Cancel", PLAIN.button),
    blocks,
  };
}

/** A saved exception as a line of the list and a row of the Home tab: name, rule, test, who, when. */
export function exceptionRowText(ex: TuningException): string {
  return truncate(
    `${inlineCode(ex.name, 64)} on ${inlineCode(ex.rule, 200)}\n${inlineCode(exceptionTest(ex), 1500)}\n` +
      `saved by ${userMention(ex.createdBy)} ${slackDate(ex.createdAt)}`,
    LIMITS.sectionText,
  );
}

function withdrawButton(ex: TuningException): ButtonElement {
  return {
    type: "button",
    text: { type: "plain_text", text: "Withdraw" },
    action_id: TUNING_ACTIONS.withdraw,
    value: ex.id,
    style: "danger",
  };
}

/** Saved exceptions as people list them: the newest first. */
function newestFirst(exceptions: readonly TuningException[]): TuningException[] {
  return [...exceptions].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id));
}

/** The Home tab's section of saved exceptions, newest first, each with its Withdraw button. */

export function tuningHomeSection(exceptions: readonly TuningException[]): HomeSection {
  return {
    id: "tuning",
    title: "Saved Falco exceptions",
    empty: "No Falco exceptions are saved. Press Tune on a resolved alert to build one.",
    moreHint: "(/falco tuning lists them; all are in GET /tuning/falco-rules.yaml)",
    rows: newestFirst(exceptions).map((ex) => ({
      key: ex.id,
      text: exceptionRowText(ex),
      buttons: [withdrawButton(ex)],
    })),
  };
}

/** The answer to `/falco tuning`: every saved exception with a Withdraw button. */
export function renderTuningList(exceptions: readonly TuningException[]): SlackMessage {
  if (exceptions.length === 0)
    return {
      text: "No Falco exceptions are saved.",
      blocks: [
        {
          type: "section",
          text: md("No Falco exceptions are saved. Press *Tune* on a resolved alert to build one."),
        },
      ],
    };
  // A message holds 50 blocks: the header, then up to 48 exceptions, then a note of the rest.
  const shown = newestFirst(exceptions).slice(0, 48);
  const blocks: SlackMessage["blocks"] = [
    {
      type: "section",
      text: md(
        `*Saved Falco exceptions (${exceptions.length})*: held back here at once, and served for Falco at \`GET /tuning/falco-rules.yaml\`.`,
      ),
    },
  ];
  for (const ex of shown) {
    blocks.push({
      type: "section",
      text: md(exceptionRowText(ex)),
      accessory: withdrawButton(ex),
    } as SlackMessage["blocks"][number]);
  }
  if (exceptions.length > shown.length)
    blocks.push({
      type: "context",
      elements: [
        md(`${exceptions.length - shown.length} more are not shown here; they are in the rules file.`),
      ],
    });
  return { text: `${exceptions.length} saved Falco exception${exceptions.length === 1 ? "" : "s"}`, blocks };
}
