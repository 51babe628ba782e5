import type { Block } from "./limits.js";

/** Slack's markup turned back into readable console text. */
function unmark(text: string): string {
  return text
    .replace(/<!date\^\d+\^[^|>]*\|([^>]*)>/g, "$1")
    .replace(/<(https?:[^|>]+)\|([^>]+)>/g, "$2")
    .replace(/\*([^*\n]+)\*/g, "$1")
    .replace(/<@([A-Z0-9]+)>/g, "@$1")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&")
    .replaceAll("\u2060", "");
}

/**
 * Control characters (ESC and the like) from alert text would be commands to the terminal that
 * shows this: clear the screen, rewrite earlier lines, set the window title. Shown as U+FFFD.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const TERMINAL_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

export function terminalSafe(text: string): string {
  return text.replace(TERMINAL_CONTROL, "\uFFFD");
}

/** A rendering of a Block Kit message for terminals and logs (preview mode). */
export function blocksToText(blocks: Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.type) {
      case "header":
        out.push(`━━ ${unmark(b.text.text)} ━━`);
        break;
      case "section":
        if (b.text) out.push(unmark(b.text.text));
        for (const f of b.fields ?? [])
          out.push("  " + unmark(f.text).replace("\n", ": ").replaceAll("\n", " "));
        break;
      case "context":
        out.push(b.elements.map((e) => unmark(e.text)).join("  "));
        break;
      case "actions":
        out.push(b.elements.map((e) => `[ ${e.text.text} ]`).join(" "));
        break;
      case "divider":
        out.push("────────");
        break;
    }
  }
  return terminalSafe(out.join("\n"));
}
