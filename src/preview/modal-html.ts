import { blocksToHtml } from "../../blocks/html.js";
import type { Block } from "../../blocks/limits.js";
import { escapeHtml } from "../report/html.js";
import type { LocalView } from "./local-slack.js";
import type { InputState, ViewValues } from "./slack-requests.js";

/*
 * The modal a person has open, as the preview page shows it: a form whose inputs are named by their
 * block and action ids, so that submitting it sends Slack's view_submission with the same
 * `state.values` Slack would. Every text in it is escaped.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- renders the untyped view JSON the app sent
type Json = Record<string, any>;

/** The input kinds the page can show, and how each turns the form's value into Slack's state. */
export const PAGE_INPUTS = [
  "plain_text_input",
  "radio_buttons",
  "static_select",
  "checkboxes",
  "users_select",
  "datepicker",
] as const;
type PageInput = (typeof PAGE_INPUTS)[number];

const text = (t: Json | undefined) => escapeHtml(String(t?.text ?? ""));

function elementHtml(block: Json, e: Json): string {
  const name = escapeHtml(`${block.block_id}/${e.action_id}`);
  const attrs = `data-block="${escapeHtml(block.block_id)}" data-action="${escapeHtml(e.action_id)}" data-kind="${escapeHtml(e.type)}"`;
  const options = (e.options ?? []) as Json[];
  switch (e.type as PageInput) {
    case "plain_text_input": {
      const max = e.max_length ? ` maxlength="${Number(e.max_length)}"` : "";
      return e.multiline
        ? `<textarea class="bk-input" name="${name}" ${attrs}${max} rows="4"></textarea>`
        : `<input class="bk-input" name="${name}" ${attrs}${max}>`;
    }
    case "radio_buttons":
    case "checkboxes":
      return `<div class="bk-choices" ${attrs}>${options
        .map(
          (o) =>
            `<label class="bk-choice"><input type="${e.type === "radio_buttons" ? "radio" : "checkbox"}" name="${name}" value="${escapeHtml(o.value)}"> ${text(o.text)}${o.description ? ` <small>${text(o.description)}</small>` : ""}</label>`,
        )
        .join("")}</div>`;
    case "static_select":
      return `<select class="bk-input" name="${name}" ${attrs}><option value="">Choose…</option>${options
        .map((o) => `<option value="${escapeHtml(o.value)}">${text(o.text)}</option>`)
        .join("")}</select>`;
    case "users_select":
      return `<input class="bk-input" name="${name}" ${attrs} placeholder="a Slack user id (U…)">`;
    case "datepicker":
      return `<input class="bk-input" type="date" name="${name}" ${attrs}>`;
    default:
      return `<p class="empty">(${escapeHtml(String(e.type))}: not shown in the preview)</p>`;
  }
}

/** The modal on top of the person's stack as an HTML form, or "" when none is open. */
export function modalHtml(view: LocalView | undefined): string {
  if (!view) return "";
  const v = view.view as Json;
  const blocks = ((v.blocks ?? []) as Json[])
    .map((b) => {
      if (b.type !== "input") return blocksToHtml([b as Block], { channel: "", ts: "" });
      const error = view.errors?.[b.block_id];
      return (
        `<div class="bk-inputblock"><div class="bk-label">${text(b.label)}${b.optional ? " <small>(optional)</small>" : ""}</div>` +
        elementHtml(b, b.element ?? {}) +
        (b.hint ? `<div class="bk-hint">${text(b.hint)}</div>` : "") +
        (error ? `<div class="bk-error" role="alert">${escapeHtml(error)}</div>` : "") +
        `</div>`
      );
    })
    .join("");
  const submit = v.submit ? `<button type="submit" class="btn btn-primary">${text(v.submit)}</button>` : "";
  return (
    `<div class="modal-backdrop"><form id="modal-form" class="modal" role="dialog" aria-label="${text(v.title)}" data-view-id="${escapeHtml(view.id)}">` +
    `<h2>${text(v.title)}</h2>${blocks}` +
    `<div class="modal-buttons"><button type="button" class="btn" data-modal-close>${text(v.close) || "Cancel"}</button>${submit}</div>` +
    `</form></div>`
  );
}

/** One input as the page sends it: its ids, its kind and what was entered or chosen. */
export interface PageInputValue {
  block: string;
  action: string;
  kind: PageInput;
  value: string | string[];
}

/** The page's inputs as Slack's `state.values`, or why they cannot be (a string). */
export function viewValuesOf(inputs: unknown): ViewValues | string {
  if (!Array.isArray(inputs) || inputs.length > 50) return "inputs must be a list of at most 50";
  const values: ViewValues = {};
  for (const raw of inputs as Json[]) {
    const { block, action, kind, value } = raw ?? {};
    if (typeof block !== "string" || typeof action !== "string" || block.length > 255 || action.length > 255)
      return "each input needs its block and action ids";
    if (!PAGE_INPUTS.includes(kind)) return `unknown input kind ${String(kind)}`;
    const one = typeof value === "string" ? value : "";
    const many = Array.isArray(value) ? value.filter((x): x is string => typeof x === "string") : [];
    let state: InputState;
    if (kind === "plain_text_input") state = { type: kind, value: one === "" ? null : one };
    else if (kind === "radio_buttons" || kind === "static_select")
      state = { type: kind, selected_option: one === "" ? null : { value: one } };
    else if (kind === "checkboxes") state = { type: kind, selected_options: many.map((v) => ({ value: v })) };
    else if (kind === "users_select") state = { type: kind, selected_user: one === "" ? null : one };
    else state = { type: "datepicker", selected_date: one === "" ? null : one };
    (values[block] ??= {})[action] = state;
  }
  return values;
}
