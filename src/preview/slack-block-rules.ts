/*
 * The Block Kit rules Slack's API enforces with `invalid_blocks`, written from Slack's documentation
 * independently of the app's own budget (blocks/limits.ts): the local Slack refuses what Slack would,
 * so a bug in the app's budget shows in the preview and fails the tests instead of passing through.
 */

/** The first reason Slack would refuse these blocks, or null when it would take them. */
export function slackBlockProblem(blocks: unknown): string | null {
  try {
    return firstProblem(blocks);
  } catch {
    // A block missing a part the rules read (a section's text without its .text, say).
    return "malformed block";
  }
}

function firstProblem(blocks: unknown): string | null {
  if (!Array.isArray(blocks)) return "blocks must be an array";
  if (blocks.length > 50) return "more than 50 blocks";
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
    } else if (b.type === "context") {
      if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 10)
        return "context needs 1-10 elements";
      for (const e of b.elements) texts.push(e.text);
    } else if (b.type === "actions") {
      if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 25)
        return "actions needs 1-25 elements";
      const ids = new Set<string>();
      for (const e of b.elements) {
        if (e.type !== "button") return "unexpected element";
        if (e.text.type !== "plain_text" || e.text.text.length > 75 || e.text.text.length === 0)
          return "button text must be 1-75 plain_text";
        if (typeof e.value === "string" && e.value.length > 2000) return "button value over 2000";
        if (ids.has(e.action_id)) return "duplicate action_id";
        ids.add(e.action_id);
        texts.push(e.text.text);
      }
    } else if (b.type !== "divider") return `unknown block type ${b.type}`;
    if (b.block_id !== undefined && (typeof b.block_id !== "string" || b.block_id.length > 255))
      return "bad block_id";
    chars += texts.reduce((n, t) => n + t.length, 0);
  }
  if (chars > 12000) return "message over 12000 characters of text";
  return null;
}
