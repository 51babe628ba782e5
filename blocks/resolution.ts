import { VERDICT_LABELS, type Verdict } from "../src/falco/verdict.js";
import { escapeMrkdwn, inlineCode, permalinkLink, slackDate, truncate, userMention } from "./escape.js";

/** How an alert ended, as the views show it. */
export interface ResolutionView {
  verdict: Verdict;
  /** Written by the person who resolved it: shown as escaped text. */
  note: string | null;
  by: string;
  at: string;
}

/** The resolved alert whose group an alert would have joined: its message is where that incident lives. */
export interface PreviousOccurrenceView {
  uuid: string;
  /** null when it was reopened since, or is no longer stored. */
  resolution: ResolutionView | null;
  /** Slack's permalink to its message; linked only when it is an https URL. */
  permalink: string | null;
}

/** Characters of a note shown on a message or a lookup; the rest is in the API and the report. */
export const NOTE_SHOWN_CHARS = 500;

/** "*false positive*", for mrkdwn. */
export function verdictText(verdict: Verdict): string {
  return `*${VERDICT_LABELS[verdict]}*`;
}

/** "Resolved as *false positive* by @alice at …". */
export function resolvedLine(r: ResolutionView): string {
  return `:checkered_flag: Resolved as ${verdictText(r.verdict)} by ${userMention(r.by)} at ${slackDate(r.at)}`;
}

/** The note, escaped and cut to what a message shows; null when there is none. */
export function noteLine(r: ResolutionView): string | null {
  return r.note ? `*Note:* ${escapeMrkdwn(truncate(r.note, NOTE_SHOWN_CHARS))}` : null;
}

/** The line on a new message that says an earlier occurrence of it was resolved, with a link to it. */
export function previousOccurrenceLine(p: PreviousOccurrenceView): string {
  const link = permalinkLink(p.permalink, "Open its message");
  const what = p.resolution
    ? `The previous occurrence was resolved as ${verdictText(p.resolution.verdict)} by ${userMention(p.resolution.by)} at ${slackDate(p.resolution.at)}; this is a new one.`
    : "Follows an earlier occurrence of this alert, reopened since.";
  return `:leftwards_arrow_with_hook: ${what} ${link ?? `Its uuid: ${inlineCode(p.uuid, 100)}`}`;
}
