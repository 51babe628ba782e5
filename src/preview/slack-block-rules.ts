/*
 * The Block Kit rules Slack's API enforces with `invalid_blocks`, written from Slack's documentation
 * independently of the app's own budget (blocks/limits.ts): the local Slack refuses what Slack would,
 * so a bug in the app's budget shows in the preview and fails the tests instead of passing through.
 */

/** Where blocks are shown: a message holds 50 and no inputs; a modal or the Home tab 100. */
export type Surface = "message" | "modal" | "home";

/** The first reason Slack would refuse these blocks, or null when it would take them. */
export function slackBlockProblem(blocks: unknown, surface: Surface = "message"): string | null {
  try {
    return firstProblem(blocks, surface);
  } catch {
    // A block missing a part the rules read (a section's text without its .text, say).
    return "malformed block";
  }
}

/**
 * The first reason views.open, views.update, views.push or views.publish would refuse this view
 * (Slack answers `invalid_arguments`), or null when it would take it.
 */
export function slackViewProblem(view: unknown): string | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- validates untyped JSON the app sent
    const v = view as Record<string, any>;
    if (typeof v !== "object" || v === null) return "view must be an object";
    if (v.type !== "modal" && v.type !== "home") return "view type must be modal or home";
    if (v.type === "modal") {
      for (const part of ["title", "submit", "close"]) {
        const text = v[part];
        if (text === undefined && part !== "title") continue;
        if (text?.type !== "plain_text" || text.text.length === 0 || text.text.length > 24)
          return `${part} must be 1-24 characters of plain_text`;
      }
      const hasInput = Array.isArray(v.blocks) && v.blocks.some((b: { type?: string }) => b.type === "input");
      if (hasInput && v.submit === undefined) return "a modal with input blocks needs submit";
    }
    if (v.callback_id !== undefined && (typeof v.callback_id !== "string" || v.callback_id.length > 255))
      return "callback_id must be at most 255 characters";
    if (
      v.private_metadata !== undefined &&
      (typeof v.private_metadata !== "string" || v.private_metadata.length > 3000)
    )
      return "private_metadata must be at most 3000 characters";
    if (v.external_id !== undefined && (typeof v.external_id !== "string" || v.external_id.length > 255))
      return "external_id must be at most 255 characters";
    return firstProblem(v.blocks, v.type === "home" ? "home" : "modal");
  } catch {
    return "malformed view";
  }
}

const INPUT_ELEMENTS = new Set([
  "plain_text_input",
  "static_select",
  "users_select",
  "multi_users_select",
  "radio_buttons",
  "checkboxes",
  "datepicker",
]);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- validates untyped JSON the app sent
function inputElementProblem(e: Record<string, any>): string | null {
  if (!INPUT_ELEMENTS.has(e.type)) return `unexpected input element ${e.type}`;
  if (typeof e.action_id !== "string" || e.action_id.length === 0 || e.action_id.length > 255)
    return "input element needs an action_id of 1-255 characters";
  if (e.type === "plain_text_input") {
    if (e.max_length !== undefined && (e.max_length < 1 || e.max_length > 3000))
      return "plain_text_input max_length must be 1-3000";
    if (typeof e.initial_value === "string" && e.initial_value.length > (e.max_length ?? 3000))
      return "plain_text_input initial_value longer than max_length";
  }
  if (["static_select", "radio_buttons", "checkboxes"].includes(e.type)) {
    const options = e.options;
    const max = e.type === "static_select" ? 100 : 10;
    if (!Array.isArray(options) || options.length === 0 || options.length > max)
      return `${e.type} needs 1-${max} options`;
    const values = new Set<string>();
    for (const o of options) {
      if (o.text?.text === undefined || o.text.text.length === 0 || o.text.text.length > 75)
        return "option text must be 1-75 characters";
      if (typeof o.value !== "string" || o.value.length === 0 || o.value.length > 150)
        return "option value must be 1-150 characters";
      if (
        o.description !== undefined &&
        (o.description.type !== "plain_text" ||
          o.description.text.length === 0 ||
          o.description.text.length > 75)
      )
        return "option description must be 1-75 characters of plain_text";
      if (values.has(o.value)) return "duplicate option value";
      values.add(o.value);
    }
  }
  if (e.type === "datepicker" && e.initial_date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(e.initial_date))
    return "datepicker initial_date must be YYYY-MM-DD";
  return null;
}

function firstProblem(blocks: unknown, surface: Surface): string | null {
  if (!Array.isArray(blocks)) return "blocks must be an array";
  const maxBlocks = surface === "message" ? 50 : 100;
  if (blocks.length > maxBlocks) return `more than ${maxBlocks} blocks`;
  const blockIds = new Set<string>();
  let chars = 0;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- validates untyped JSON the app sent
  for (const b of blocks as Record<string, any>[]) {
    const texts: string[] = [];
    if (b.type === "header") {
      if (b.text?.type !== "plain_text") return "header text must be plain_text";
      if (b.text.text.length > 150) return "header over 150";
      texts.push(b.text.text);
    } else if (b.type === "section") {
      if (!b.text && !b.fields) return "section needs text or fields";
      if (b.text && (b.text.text.length > 3000 || b.text.text.length === 0))
        return "section text must be 1-3000";
      if (b.fields && b.fields.length > 10) return "more than 10 fields";
      for (const f of b.fields ?? [])
        if (f.text.length > 2000 || f.text.length === 0) return "field must be 1-2000";
      if (b.text) texts.push(b.text.text);
      for (const f of b.fields ?? []) texts.push(f.text);
      if (b.accessory !== undefined) {
        const a = b.accessory;
        if (a.type === "button") {
          if (a.text?.type !== "plain_text" || a.text.text.length > 75 || a.text.text.length === 0)
            return "button text must be 1-75 plain_text";
          texts.push(a.text.text);
        } else if (surface === "message" || !INPUT_ELEMENTS.has(a.type)) return "unexpected accessory";
        else {
          const problem = inputElementProblem(a);
          if (problem) return problem;
        }
      }
    } else if (b.type === "context") {
      if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 10)
        return "context needs 1-10 elements";
      for (const e of b.elements) texts.push(e.text);
    } else if (b.type === "actions") {
      if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 25)
        return "actions needs 1-25 elements";
      const ids = new Set<string>();
      for (const e of b.elements) {
        if (e.type !== "button") {
          if (surface === "message" || !INPUT_ELEMENTS.has(e.type)) return "unexpected element";
          const problem = inputElementProblem(e);
          if (problem) return problem;
          continue;
        }
        if (e.text.type !== "plain_text" || e.text.text.length > 75 || e.text.text.length === 0)
          return "button text must be 1-75 plain_text";
        if (typeof e.value === "string" && e.value.length > 2000) return "button value over 2000";
        if (ids.has(e.action_id)) return "duplicate action_id";
        ids.add(e.action_id);
        texts.push(e.text.text);
      }
    } else if (b.type === "input") {
      if (surface === "message") return "input blocks are for modals and the Home tab";
      if (b.label?.type !== "plain_text" || b.label.text.length === 0 || b.label.text.length > 2000)
        return "input label must be 1-2000 characters of plain_text";
      if (b.hint !== undefined && (b.hint.type !== "plain_text" || b.hint.text.length > 2000))
        return "input hint must be at most 2000 characters of plain_text";
      const problem = inputElementProblem(b.element ?? {});
      if (problem) return problem;
      texts.push(b.label.text);
    } else if (b.type !== "divider") return `unknown block type ${b.type}`;
    if (b.block_id !== undefined && (typeof b.block_id !== "string" || b.block_id.length > 255))
      return "bad block_id";
    if (b.block_id !== undefined) {
      if (blockIds.has(b.block_id)) return "duplicate block_id";
      blockIds.add(b.block_id);
    }
    chars += texts.reduce((n, t) => n + t.length, 0);
  }
  if (surface === "message" && chars > 12000) return "message over 12000 characters of text";
  return null;
}
