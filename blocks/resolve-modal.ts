import type { FalcoAlert } from "../src/falco/alert.js";
import { VERDICT_LABELS, VERDICTS, type Verdict } from "../src/falco/verdict.js";
import { PRIORITY_EMOJI } from "./alert-line.js";
import { escapeMrkdwn, inlineCode, plain, truncate } from "./escape.js";
import { md } from "./layout.js";
import type { TextObject } from "./limits.js";

/** The ids Slack sends back with the modal's submission. */
export const RESOLVE_MODAL = {
  callbackId: "falco_resolve_modal",
  verdictBlock: "falco_resolve_verdict",
  verdictAction: "falco_verdict",
  noteBlock: "falco_resolve_note",
  noteAction: "falco_note",
} as const;

/** A note's length limit: Slack's input enforces it, and the submission is checked against it again. */
export const NOTE_MAX_CHARS = 1000;

/** What the modal is about: the alert whose message it is, and that message. */
export interface ResolveTarget {
  uuid: string;
  channel: string;
  ts: string;
}

const VERDICT_HELP: Record<Verdict, string> = {
  true_positive: "Real activity that needed a response",
  false_positive: "The rule matched something it should not have",
  expected_activity: "Real, and known and approved (a deploy, an admin task)",
  duplicate: "The same incident is worked under another alert",
};

/** Modals take plain_text only in their title, buttons, labels, hints and options. */
interface PlainText {
  type: "plain_text";
  text: string;
  emoji: true;
}

const plainText = (text: string, max: number): PlainText => ({
  type: "plain_text",
  text: plain(text, max),
  emoji: true,
});

interface Option {
  text: PlainText;
  value: string;
  description?: PlainText;
}

type InputBlock = {
  type: "input";
  block_id: string;
  label: PlainText;
  hint?: PlainText;
  optional?: boolean;
  element:
    | { type: "radio_buttons"; action_id: string; options: Option[] }
    | { type: "plain_text_input"; action_id: string; multiline: boolean; max_length: number };
};

export interface ModalView {
  type: "modal";
  callback_id: string;
  private_metadata: string;
  title: PlainText;
  submit: PlainText;
  close: PlainText;
  blocks: ({ type: "section"; text: TextObject } | InputBlock)[];
}

/** The Resolve modal: a verdict (required) and a note (optional), for the alert whose message it is. */
export function renderResolveModal(alert: FalcoAlert, target: ResolveTarget): ModalView {
  return {
    type: "modal",
    callback_id: RESOLVE_MODAL.callbackId,
    private_metadata: JSON.stringify(target),
    title: plainText("Resolve alert", 24),
    submit: plainText("Resolve", 24),
    close: plainText("Cancel", 24),
    blocks: [
      {
        type: "section",
        text: md(
          `${PRIORITY_EMOJI[alert.priority]} *${escapeMrkdwn(alert.priority)}: ${escapeMrkdwn(truncate(alert.rule, 300))}*\nuuid ${inlineCode(alert.uuid, 130)}`,
        ),
      },
      ...verdictInputs(),
    ],
  };
}

/** The verdict and note inputs, shared by the Resolve modal of an alert and of a fleet roll-up. */
export function verdictInputs(): InputBlock[] {
  return [
    {
      type: "input",
      block_id: RESOLVE_MODAL.verdictBlock,
      label: plainText("Verdict", 2000),
      hint: plainText(
        "False positive and expected activity offer Tune on the message, so that this case stops alerting.",
        2000,
      ),
      element: {
        type: "radio_buttons",
        action_id: RESOLVE_MODAL.verdictAction,
        options: VERDICTS.map((v) => ({
          text: plainText(
            VERDICT_LABELS[v].replace(/^./, (c) => c.toUpperCase()),
            75,
          ),
          value: v,
          description: plainText(VERDICT_HELP[v], 75),
        })),
      },
    },
    {
      type: "input",
      block_id: RESOLVE_MODAL.noteBlock,
      optional: true,
      label: plainText("Note", 2000),
      hint: plainText(
        `Optional, at most ${NOTE_MAX_CHARS.toLocaleString("en-US")} characters: what you found and did, for whoever sees this alert next. It is shown in the message's thread.`,
        2000,
      ),
      element: {
        type: "plain_text_input",
        action_id: RESOLVE_MODAL.noteAction,
        multiline: true,
        max_length: NOTE_MAX_CHARS,
      },
    },
  ];
}
