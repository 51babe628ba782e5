import { escapeHtml } from "../src/report/html.js";
import type { Block, ButtonElement, TextObject } from "./limits.js";

/*
 * Block Kit rendered as HTML, the way Slack's client shows it, for the local preview page. Texts are
 * alert-derived and attacker-controlled: every character that is not one of Slack's own control
 * sequences is HTML-escaped, and the only elements produced are the fixed set below. Links are kept
 * only for http(s) URLs and open in a new tab without a referrer.
 */

/** Slack's mrkdwn escapes (&amp; &lt; &gt;) back to characters, before escaping for HTML. */
function unescapeSlack(text: string): string {
  return text.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");
}

/** The emoji codes the app's messages use, as the characters Slack shows for them. */
const EMOJI: Record<string, string> = {
  rotating_light: "\u{1F6A8}",
  red_circle: "\u{1F534}",
  large_orange_circle: "\u{1F7E0}",
  warning: "\u26A0\uFE0F",
  large_blue_circle: "\u{1F535}",
  information_source: "\u2139\uFE0F",
  white_circle: "\u26AA",
  white_check_mark: "\u2705",
  arrow_double_up: "\u23EB",
  large_green_circle: "\u{1F7E2}",
  repeat: "\u{1F501}",
  thread: "\u{1F9F5}",
  bust_in_silhouette: "\u{1F464}",
};

function emoji(html: string): string {
  return html.replace(/:([a-z0-9_]+):/g, (all, name: string) => EMOJI[name] ?? all);
}

/** *bold*, _italic_, ~strike~ on already HTML-escaped text (the markers are not HTML-special). */
function emphasis(html: string): string {
  return html
    .replace(/(^|[\s(])\*(?=\S)([^*\n]*?\S)\*(?=$|[\s.,;:!?)])/g, "$1<b>$2</b>")
    .replace(/(^|[\s(])_(?=\S)([^_\n]*?\S)_(?=$|[\s.,;:!?)])/g, "$1<i>$2</i>")
    .replace(/(^|[\s(])~(?=\S)([^~\n]*?\S)~(?=$|[\s.,;:!?)])/g, "$1<s>$2</s>");
}

/** Slack's control sequences: dates, links, user and channel mentions. */
const CONTROL =
  /<(!date\^\d+\^[^|>]*\|[^>]*|https?:\/\/[^|>\s]+(?:\|[^>]*)?|@[UW][A-Z0-9]+|#C[A-Z0-9]+(?:\|[^>]*)?)>/g;

/** Display names of the workspace's people by user id, for mentions; a mention of anyone else shows the id. */
export type UserNames = ReadonlyMap<string, string>;

function control(inner: string, names?: UserNames): string {
  if (inner.startsWith("!date^")) {
    const [, seconds] = inner.split("^");
    const fallback = inner.slice(inner.indexOf("|") + 1);
    const iso = new Date(Number(seconds) * 1000).toISOString();
    return `<time datetime="${escapeHtml(iso)}">${escapeHtml(unescapeSlack(fallback))}</time>`;
  }
  if (inner.startsWith("@"))
    return `<span class="mention">@${escapeHtml(names?.get(inner.slice(1)) ?? inner.slice(1))}</span>`;
  if (inner.startsWith("#")) {
    const [id, name] = inner.slice(1).split("|");
    return `<span class="mention">#${escapeHtml(unescapeSlack(name ?? id!))}</span>`;
  }
  const bar = inner.indexOf("|");
  const url = bar === -1 ? inner : inner.slice(0, bar);
  const label = bar === -1 ? url : inner.slice(bar + 1);
  return `<a href="${escapeHtml(unescapeSlack(url))}" target="_blank" rel="noopener noreferrer">${escapeHtml(unescapeSlack(label))}</a>`;
}

/** Plain stretches: escaped, `code` spans kept literal, emphasis applied outside them. */
function inline(text: string): string {
  return text
    .split(/(`[^`\n]+`)/)
    .map((part, i) =>
      i % 2 === 1
        ? `<code>${escapeHtml(unescapeSlack(part.slice(1, -1)))}</code>`
        : emphasis(emoji(escapeHtml(unescapeSlack(part)))),
    )
    .join("");
}

function withControls(text: string, names?: UserNames): string {
  let out = "";
  let last = 0;
  for (const m of text.matchAll(CONTROL)) {
    out += inline(text.slice(last, m.index));
    out += control(m[1]!, names);
    last = m.index + m[0].length;
  }
  return out + inline(text.slice(last));
}

/** A mrkdwn text as HTML: ```preformatted``` blocks first, then inline markup, newlines as <br>. */
export function mrkdwnToHtml(text: string, names?: UserNames): string {
  return text
    .split(/```([\s\S]*?)```/)
    .map((part, i) =>
      i % 2 === 1
        ? `<pre>${escapeHtml(unescapeSlack(part))}</pre>`
        : withControls(part, names).replaceAll("\n", "<br>"),
    )
    .join("");
}

function textHtml(t: TextObject, names?: UserNames): string {
  return t.type === "mrkdwn" ? mrkdwnToHtml(t.text, names) : escapeHtml(t.text);
}

/** A button that the preview page's script turns into a click on the real handlers. */
export function buttonHtml(b: ButtonElement, target: ButtonTarget): string {
  const style = b.style ? ` btn-${b.style}` : "";
  const where =
    "viewId" in target
      ? ` data-view-id="${escapeHtml(target.viewId)}"`
      : ` data-channel="${escapeHtml(target.channel)}" data-ts="${escapeHtml(target.ts)}"`;
  return (
    `<button type="button" class="btn${style}" data-action-id="${escapeHtml(b.action_id)}"` +
    ` data-value="${escapeHtml(b.value ?? "")}"${where}>${escapeHtml(b.text.text)}</button>`
  );
}

/** The message (or the modal or Home tab) a button belongs to, so that a click can be sent as Slack would. */
export type ButtonTarget = { channel: string; ts: string } | { viewId: string };

export function blocksToHtml(blocks: Block[], target: ButtonTarget, names?: UserNames): string {
  return blocks
    .map((b) => {
      switch (b.type) {
        case "header":
          return `<h3 class="bk-header">${emoji(escapeHtml(b.text.text))}</h3>`;
        case "section": {
          const text = b.text ? `<div class="bk-text">${textHtml(b.text, names)}</div>` : "";
          const fields = b.fields?.length
            ? `<div class="bk-fields">${b.fields.map((f) => `<div class="bk-field">${textHtml(f, names)}</div>`).join("")}</div>`
            : "";
          return `<section class="bk-section">${text}${fields}</section>`;
        }
        case "context":
          return `<div class="bk-context">${b.elements.map((e) => `<span>${textHtml(e, names)}</span>`).join("")}</div>`;
        case "actions":
          return `<div class="bk-actions">${b.elements.map((e) => buttonHtml(e, target)).join("")}</div>`;
        case "divider":
          return `<hr class="bk-divider">`;
        default:
          return "";
      }
    })
    .join("\n");
}
