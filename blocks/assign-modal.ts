import type { FalcoAlert } from "../src/falco/alert.js";
import { escapeMrkdwn, plain, truncate } from "./escape.js";
import { md } from "./layout.js";
import type { Block } from "./limits.js";

/** The "Assign…" modal: who should own the alert, picked from the workspace's people. */

export const ASSIGN_MODAL = {
  callbackId: "falco_assign_modal",
  /** The input block, which Slack's errors name. */
  ownerBlock: "owner",
  ownerAction: "user",
} as const;

interface PlainText {
  type: "plain_text";
  text: string;
}

export interface AssignModalView {
  type: "modal";
  callback_id: string;
  private_metadata: string;
  title: PlainText;
  submit: PlainText;
  close: PlainText;
  blocks: (Block | UsersSelectInput)[];
}

/** An input block holding a users_select (Slack lists the workspace's people in it). */
export interface UsersSelectInput {
  type: "input";
  block_id: string;
  label: PlainText;
  hint?: PlainText;
  element: { type: "users_select"; action_id: string; placeholder?: PlainText; initial_user?: string };
}

/** What the submission needs back: the alert's uuid, and whether to refresh the Home tab it came from. */
export interface AssignMetadata {
  uuid: string;
  fromHome?: boolean;
}

export function assignModal(
  alert: FalcoAlert,
  currentOwner: string | null,
  fromHome = false,
): AssignModalView {
  const metadata: AssignMetadata = { uuid: alert.uuid, ...(fromHome ? { fromHome: true } : {}) };
  return {
    type: "modal",
    callback_id: ASSIGN_MODAL.callbackId,
    private_metadata: JSON.stringify(metadata),
    title: { type: "plain_text", text: "Assign alert" },
    submit: { type: "plain_text", text: "Assign" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      {
        type: "section",
        text: md(
          `*${escapeMrkdwn(truncate(`${alert.priority}: ${alert.rule}`, 300))}*\nuuid \`${escapeMrkdwn(alert.uuid)}\``,
        ),
      },
      {
        type: "input",
        block_id: ASSIGN_MODAL.ownerBlock,
        label: { type: "plain_text", text: plain("Owner", 2000) },
        hint: {
          type: "plain_text",
          text: "They are named on the alert message and find it in /falco mine and on their Home tab.",
        },
        element: {
          type: "users_select",
          action_id: ASSIGN_MODAL.ownerAction,
          placeholder: { type: "plain_text", text: "Pick a person" },
          ...(currentOwner ? { initial_user: currentOwner } : {}),
        },
      },
    ],
  };
}
