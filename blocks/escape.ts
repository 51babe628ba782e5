/**
 * Alert fields are attacker-controlled: a process can be named `<!channel>` or
 * `<https://evil.example|click me>`. Everything from an alert goes through these helpers before it
 * reaches a mrkdwn text, and every mrkdwn text object is sent with `verbatim: true` so that Slack
 * does not turn bare URLs, #channels or @names into links or mentions.
 */

/** Slack's three control characters, as its docs require. */
export function escapeMrkdwn(text: string): string {
  return defangMentions(text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;"));
}

/** `@channel`, `@here`, `@everyone` written bare: a word joiner after `@` stops any client from pinging. */
export function defangMentions(text: string): string {
  return text.replace(/@(channel|here|everyone)\b/gi, "@\u2060$1");
}

/** Cuts to `max` characters (code points), ending with an ellipsis when something was cut. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  return chars.slice(0, Math.max(0, max - 1)).join("") + "…";
}

/** An inline code span. A backtick inside would end the span early, so it is shown as a look-alike. */
export function inlineCode(text: string, max = 300): string {
  const inner = escapeMrkdwn(truncate(text.replaceAll("`", "ˋ").replace(/\s+/g, " "), max));
  return inner === "" ? "" : `\`${inner}\``;
}

/** A preformatted block; triple backticks inside are broken up for the same reason. */
export function codeBlock(text: string, max = 2800): string {
  return "```" + escapeMrkdwn(truncate(text.replaceAll("```", "ˋˋˋ"), max)) + "```";
}

/** plain_text objects need no escaping, but still have length limits and must not be empty. */
export function plain(text: string, max: number): string {
  const t = truncate(text.replace(/\s+/g, " ").trim(), max);
  return t === "" ? "-" : t;
}

const SLACK_ID = /^[UWB][A-Z0-9]{2,}$/;

/** A mention of a Slack user id we got from Slack itself; anything else is shown as escaped text. */
export function userMention(userId: string): string {
  return SLACK_ID.test(userId) ? `<@${userId}>` : escapeMrkdwn(userId);
}

/**
 * A mrkdwn link to a message permalink Slack gave us, or null when it is not a plain https URL (the
 * preview workspace's, or anything that could break out of the link syntax).
 */
export function permalinkLink(permalink: string | null, label: string): string | null {
  return permalink && /^https:\/\/[^\s|<>]+$/.test(permalink) ? `<${permalink}|${label}>` : null;
}

/** Slack's date formatting token, shown in the reader's time zone; `iso` is the fallback text. */
export function slackDate(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escapeMrkdwn(iso);
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} at {time_secs}|${escapeMrkdwn(iso)}>`;
}
