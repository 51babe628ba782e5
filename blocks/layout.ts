import { plain, truncate } from "./escape.js";
import { type Block, type ButtonElement, LIMITS, type TextObject, limitProblems } from "./limits.js";

/*
 * The pieces every view builds with: text objects, a labelled field, and packing text into sections
 * and blocks into messages so that each stays within Slack's limits. Text reaching `md` must already
 * be escaped (see escape.ts).
 */

/** A mrkdwn text object; `verbatim` so that Slack does not turn bare URLs, #channels or @names into links. */
export const md = (text: string): TextObject => ({ type: "mrkdwn", text, verbatim: true });

/** A plain_text object (headers, buttons), cut to `max` and never empty. */
export const plainText = (text: string, max: number): TextObject => ({
  type: "plain_text",
  text: plain(text, max),
  emoji: true,
});

/** A button whose value names what it acts on (an alert's uuid, a roll-up's id). */
export function button(
  text: string,
  actionId: string,
  value: string,
  style?: "primary" | "danger",
): ButtonElement {
  return {
    type: "button",
    text: plainText(text, LIMITS.buttonText),
    action_id: actionId,
    value,
    ...(style ? { style } : {}),
  };
}

/** One of a section's fields: a bold label over its (already escaped) value. */
export function fieldRow(label: string, value: string): TextObject {
  return md(truncate(`*${label}*\n${value}`, LIMITS.sectionFieldText));
}

/** Packs paragraphs into as few sections as the 3000-character limit allows. */
export function sections(title: string, paragraphs: string[]): Block[] {
  const out: Block[] = [];
  let current = `*${title}*`;
  for (const p of paragraphs) {
    const piece = truncate(p, LIMITS.sectionText - 50);
    if (current.length + 1 + piece.length > LIMITS.sectionText) {
      out.push({ type: "section", text: md(current) });
      current = piece;
    } else current += `\n${piece}`;
  }
  out.push({ type: "section", text: md(current) });
  return out;
}

/** Blocks split, in order, into as many messages as Slack's limits (blocks, characters) require. */
export function splitIntoMessages(blocks: Block[]): Block[][] {
  const messages: Block[][] = [];
  let current: Block[] = [];
  for (const block of blocks) {
    if (current.length > 0 && limitProblems([...current, block]).length > 0) {
      messages.push(current);
      current = [];
    }
    current.push(block);
  }
  if (current.length) messages.push(current);
  return messages;
}
