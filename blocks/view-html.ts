import { escapeHtml } from "../src/report/html.js";
import { blocksToHtml, buttonHtml, type UserNames } from "./html.js";
import type { Block, ButtonElement } from "./limits.js";

/*
 * A modal and the Home tab as HTML, the way Slack's client shows them, for the local preview page:
 * the blocks as in messages, and input blocks as the form controls Slack draws for each element.
 * Every text comes from the app's view (which may carry alert text): all of it is HTML-escaped, and
 * only the fixed set of elements below is produced. The page's script reads the controls back by
 * their data attributes and the server builds Slack's `state.values` from them.
 */

/** A person the workspace knows, as users_select lists them. */
export interface WorkspaceUser {
  id: string;
  name: string;
}

/** The people's names by id, for mentions. */
export function namesOf(users: WorkspaceUser[]): UserNames {
  return new Map(users.map((u) => [u.id, u.name]));
}

/** A modal or Home tab as the local workspace holds it. */
export interface ViewForHtml {
  id: string;
  /** Changes whenever the app replaces the view (an errors answer keeps it). */
  hash?: string;
  type: "modal" | "home";
  view: Record<string, unknown>;
  /** The app's answer to the last submission: block id → message shown under that input. */
  errors: Record<string, string> | null;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- renders the app's untyped view JSON
type Json = Record<string, any>;

const textOf = (t: unknown): string =>
  typeof (t as Json)?.text === "string" ? ((t as Json).text as string) : "";

function optionText(o: Json): string {
  return escapeHtml(textOf(o.text));
}

function inputControl(element: Json, id: string, users: WorkspaceUser[]): string {
  const placeholder = textOf(element.placeholder);
  switch (element.type) {
    case "plain_text_input": {
      const common = `id="${id}" class="bk-control"${element.max_length ? ` maxlength="${Number(element.max_length)}"` : ""}${placeholder ? ` placeholder="${escapeHtml(placeholder)}"` : ""}`;
      const value = typeof element.initial_value === "string" ? element.initial_value : "";
      return element.multiline
        ? `<textarea ${common} rows="4">${escapeHtml(value)}</textarea>`
        : `<input type="text" ${common} value="${escapeHtml(value)}">`;
    }
    case "static_select": {
      const initial = (element.initial_option as Json | undefined)?.value;
      const options = ((element.options ?? []) as Json[])
        .map(
          (o) =>
            `<option value="${escapeHtml(String(o.value))}"${o.value === initial ? " selected" : ""}>${optionText(o)}</option>`,
        )
        .join("");
      return `<select id="${id}" class="bk-control"><option value="">${escapeHtml(placeholder || "Select an item")}</option>${options}</select>`;
    }
    case "users_select": {
      const initial = element.initial_user as string | undefined;
      const options = users
        .map(
          (u) =>
            `<option value="${escapeHtml(u.id)}"${u.id === initial ? " selected" : ""}>${escapeHtml(u.name)}</option>`,
        )
        .join("");
      return `<select id="${id}" class="bk-control"><option value="">${escapeHtml(placeholder || "Select a user")}</option>${options}</select>`;
    }
    case "radio_buttons":
    case "checkboxes": {
      const kind = element.type === "radio_buttons" ? "radio" : "checkbox";
      const initial = new Set(
        kind === "radio"
          ? [(element.initial_option as Json | undefined)?.value]
          : ((element.initial_options ?? []) as Json[]).map((o) => o.value),
      );
      return `<div id="${id}" class="bk-choices">${((element.options ?? []) as Json[])
        .map(
          (o, i) =>
            `<label class="bk-choice"><input type="${kind}" name="${id}" id="${id}-${i}" value="${escapeHtml(String(o.value))}"${initial.has(o.value) ? " checked" : ""}> ${optionText(o)}</label>`,
        )
        .join("")}</div>`;
    }
    case "datepicker": {
      const value = typeof element.initial_date === "string" ? element.initial_date : "";
      return `<input type="date" id="${id}" class="bk-control" value="${escapeHtml(value)}">`;
    }
    default:
      return `<p class="bk-unsupported">(${escapeHtml(String(element.type))} is not shown in the preview)</p>`;
  }
}

function inputHtml(
  block: Json,
  index: number,
  errors: Record<string, string>,
  users: WorkspaceUser[],
): string {
  const element = (block.element ?? {}) as Json;
  const blockId = typeof block.block_id === "string" ? block.block_id : `block-${index}`;
  const id = `input-${index}`;
  const error = errors[blockId];
  const label = escapeHtml(textOf(block.label));
  const hint = textOf(block.hint);
  return (
    `<div class="bk-input${error ? " has-error" : ""}" data-block-id="${escapeHtml(blockId)}"` +
    ` data-action-id="${escapeHtml(String(element.action_id ?? ""))}" data-type="${escapeHtml(String(element.type ?? ""))}"` +
    ` data-required="${block.optional ? "false" : "true"}">` +
    `<label class="bk-label" for="${id}">${label}${block.optional ? ' <span class="bk-optional">(optional)</span>' : ""}</label>` +
    inputControl(element, id, users) +
    (hint ? `<p class="bk-hint">${escapeHtml(hint)}</p>` : "") +
    `<p class="bk-error" role="alert">${error ? escapeHtml(error) : ""}</p>` +
    `</div>`
  );
}

/** A view's blocks: inputs as controls, the rest as in a message, buttons sent as clicks in this view. */
function viewBlocksHtml(view: ViewForHtml, users: WorkspaceUser[]): string {
  const blocks = Array.isArray(view.view.blocks) ? (view.view.blocks as Json[]) : [];
  const errors = view.errors ?? {};
  return blocks
    .map((b, i) => {
      if (b.type === "input") return inputHtml(b, i, errors, users);
      const html = blocksToHtml([b as Block], { viewId: view.id }, namesOf(users));
      const accessory = b.type === "section" && (b.accessory as Json | undefined)?.type === "button";
      return accessory
        ? `<div class="bk-with-accessory">${html}${buttonHtml(b.accessory as ButtonElement, { viewId: view.id })}</div>`
        : html;
    })
    .join("\n");
}

/** The modal on top of the user's stack, as a dialog over the page with Cancel and Submit. */
export function modalHtml(view: ViewForHtml, users: WorkspaceUser[]): string {
  const title = escapeHtml(textOf(view.view.title));
  const close = escapeHtml(textOf(view.view.close) || "Cancel");
  const submit = textOf(view.view.submit);
  return (
    `<div class="modal-backdrop">` +
    `<div class="modal" role="dialog" aria-modal="true" aria-labelledby="modal-title" data-view-id="${escapeHtml(view.id)}" data-view-hash="${escapeHtml(view.hash ?? "")}">` +
    `<header class="modal-head"><h2 id="modal-title">${title}</h2></header>` +
    `<form class="modal-body" id="modal-form" novalidate>${viewBlocksHtml(view, users)}</form>` +
    `<footer class="modal-foot"><button type="button" class="btn" data-modal-close>${close}</button>` +
    (submit
      ? ` <button type="submit" form="modal-form" class="btn btn-primary">${escapeHtml(submit)}</button>`
      : "") +
    `</footer></div></div>`
  );
}

/** The user's Home tab as the app last published it. */
export function homeHtml(view: ViewForHtml, users: WorkspaceUser[]): string {
  return `<div class="home" data-view-id="${escapeHtml(view.id)}">${viewBlocksHtml(view, users)}</div>`;
}

/** Shown before the app has published a Home tab. */
export const NO_HOME_HTML = `<p class="empty">The app has not published a Home tab for you yet.</p>`;
