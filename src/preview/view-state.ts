import type { InputState, ViewValues } from "./slack-requests.js";

/*
 * The preview page's form, read back as Slack's `state.values`: for each input block of the view,
 * what its element holds, in the shape Slack sends for that element. The page sends plain strings;
 * only what the view offers is accepted (an option it lists, a person the workspace knows), as
 * Slack's own controls allow nothing else.
 */

/** What the page sends: block id → action id → the control's value (several for checkboxes). */
export type FormValues = Record<string, Record<string, string | string[] | null>>;

/** A form value Slack's controls could not have produced; the message names the input. */
export class FormValueError extends Error {}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- reads the app's untyped view JSON
type Json = Record<string, any>;

function optionValues(element: Json): Set<string> {
  return new Set(((element.options ?? []) as Json[]).map((o) => String(o.value)));
}

function inputState(
  element: Json,
  raw: string | string[] | null | undefined,
  where: string,
  users: Set<string>,
): InputState {
  const one = Array.isArray(raw) ? raw[0] : raw;
  const text = typeof one === "string" && one !== "" ? one : null;
  switch (element.type) {
    case "plain_text_input":
      if (text && element.max_length && text.length > Number(element.max_length))
        throw new FormValueError(`${where}: longer than ${Number(element.max_length)} characters`);
      return { type: "plain_text_input", value: text };
    case "static_select":
    case "radio_buttons":
      if (text !== null && !optionValues(element).has(text))
        throw new FormValueError(`${where}: not one of the options`);
      return { type: element.type, selected_option: text === null ? null : { value: text } };
    case "checkboxes": {
      const values = (Array.isArray(raw) ? raw : text === null ? [] : [text]).filter((v) => v !== "");
      const offered = optionValues(element);
      if (values.some((v) => !offered.has(v))) throw new FormValueError(`${where}: not one of the options`);
      return { type: "checkboxes", selected_options: values.map((value) => ({ value })) };
    }
    case "users_select":
      if (text !== null && !users.has(text))
        throw new FormValueError(`${where}: not a person in this workspace`);
      return { type: "users_select", selected_user: text };
    case "datepicker":
      if (text !== null && !/^\d{4}-\d{2}-\d{2}$/.test(text))
        throw new FormValueError(`${where}: a date is written YYYY-MM-DD`);
      return { type: "datepicker", selected_date: text };
    default:
      throw new FormValueError(`${where}: the preview cannot fill a ${String(element.type)}`);
  }
}

/** Slack's `state.values` for this view from the page's form; throws FormValueError for a value no control gives. */
export function viewStateValues(
  view: Record<string, unknown>,
  form: FormValues,
  users: Set<string>,
): ViewValues {
  const values: ViewValues = {};
  const blocks = Array.isArray(view.blocks) ? (view.blocks as Json[]) : [];
  blocks.forEach((block, i) => {
    if (block.type !== "input") return;
    const element = (block.element ?? {}) as Json;
    const blockId = typeof block.block_id === "string" ? block.block_id : `block-${i}`;
    const actionId = String(element.action_id ?? "");
    const where = `values.${blockId}.${actionId}`;
    values[blockId] = { [actionId]: inputState(element, form[blockId]?.[actionId], where, users) };
  });
  return values;
}
