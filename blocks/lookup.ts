import { alertSubject } from "../src/falco/family.js";
import type { FalcoAlert } from "../src/falco/alert.js";
import { PRIORITY_EMOJI } from "./alert-line.js";
import { escapeMrkdwn, inlineCode, permalinkLink, slackDate, truncate, userMention } from "./escape.js";
import { md } from "./layout.js";
import type { Block, SlackMessage } from "./limits.js";
import { noteLine, type ResolutionView, verdictText } from "./resolution.js";
import type { TriageState } from "./triage.js";

export interface LookupView {
  alert: FalcoAlert;
  triage: TriageState;
  state: "new" | "acknowledged" | "escalated" | "resolved";
  permalink: string | null;
  /** The alert's message exists (Slack's, or the preview workspace's, which has no https link to it). */
  posted: boolean;
  /** Occurrences of the alert's group; the permalink and state are the group's message's. */
  occurrences?: number;
  /** How the alert (its group's message) ended, once resolved. */
  resolution?: ResolutionView | null;
  /** The fleet roll-up its group is in: its message stands for the alert's (permalink, posted). */
  rollup?: { id: string; hosts: number; groups: number } | null;
}

function who(by: string | null, at: string | null): string {
  return by ? `${userMention(by)}${at ? ` at ${slackDate(at)}` : ""}` : "–";
}

function linkTo(permalink: string | null, posted: boolean): string {
  return (
    permalinkLink(permalink, "Open the alert message") ??
    (posted ? "Posted; no link to the message is available." : "Not posted to Slack yet.")
  );
}

/** `/falco <uuid>`: the alert in a few lines, for the person who asked. */
export function renderLookup(view: LookupView): SlackMessage {
  const { alert, triage } = view;
  const lines = [
    `${PRIORITY_EMOJI[alert.priority]} *${escapeMrkdwn(alert.priority)}: ${escapeMrkdwn(truncate(alert.rule, 200))}*`,
    `*Where:* ${alertSubject(alert) ? inlineCode(alertSubject(alert)!, 200) : "–"}   *Time:* ${slackDate(alert.time)}`,
    `*State:* ${view.state}${view.occurrences && view.occurrences > 1 ? `   *Group:* ${view.occurrences.toLocaleString("en-US")} occurrences, one message` : ""}`,
    `*Acknowledged:* ${who(triage.acknowledgedBy, triage.acknowledgedAt)}   *Escalated:* ${who(triage.escalatedBy, triage.escalatedAt)}`,
    `*Owner:* ${who(triage.ownedBy ?? null, triage.ownedAt ?? null)}`,
    ...(view.rollup
      ? [
          `*Fleet roll-up:* one message for ${view.rollup.hosts.toLocaleString("en-US")} ${view.rollup.hosts === 1 ? "host" : "hosts"} of this rule (${view.rollup.groups.toLocaleString("en-US")} groups); every member: ${inlineCode(`GET /rollups/${view.rollup.id}`, 200)}`,
        ]
      : []),
    ...(view.resolution
      ? [
          `*Resolved:* ${verdictText(view.resolution.verdict)} by ${who(view.resolution.by, view.resolution.at)}`,
          ...(noteLine(view.resolution) ? [noteLine(view.resolution)!] : []),
        ]
      : []),
    linkTo(view.permalink, view.posted),
  ];
  return {
    text: `${escapeMrkdwn(alert.priority)}: ${escapeMrkdwn(truncate(alert.rule, 200))} (${view.state})`,
    blocks: [
      { type: "section", text: md(lines.join("\n")) },
      { type: "context", elements: [md(`uuid ${inlineCode(alert.uuid, 130)}`)] },
    ],
  };
}

export function renderRecent(items: LookupView[]): SlackMessage {
  if (items.length === 0)
    return {
      text: "No alerts stored yet.",
      blocks: [{ type: "section", text: md("No alerts stored yet.") }],
    };
  const lines = items.map(
    (v) =>
      `${PRIORITY_EMOJI[v.alert.priority]} ${inlineCode(v.alert.uuid.slice(0, 8), 20)} ${escapeMrkdwn(truncate(v.alert.rule, 120))} · ${alertSubject(v.alert) ? inlineCode(alertSubject(v.alert)!, 80) : "–"} · ${slackDate(v.alert.time)} · ${v.state}`,
  );
  const blocks: Block[] = [
    { type: "section", text: md(truncate(`*Last ${items.length} alerts*\n${lines.join("\n")}`, 3000)) },
  ];
  blocks.push({ type: "context", elements: [md("`/falco <uuid>` (or its first 8+ characters) shows one.")] });
  return { text: `Last ${items.length} alerts`, blocks };
}

/** At most this many alerts are listed by `/falco mine`; the rest are counted. */
export const MINE_LIMIT = 20;

/** `/falco mine`: the open alerts the person owns, the most recently taken first. */
export function renderMine(items: LookupView[]): SlackMessage {
  if (items.length === 0)
    return {
      text: "You own no open alerts.",
      blocks: [
        {
          type: "section",
          text: md(
            "You own no open alerts. Press *Take it* on an alert message (or on the Home tab) to own one.",
          ),
        },
      ],
    };
  const lines = items
    .slice(0, MINE_LIMIT)
    .map(
      (v) =>
        `${PRIORITY_EMOJI[v.alert.priority]} ${inlineCode(v.alert.uuid.slice(0, 8), 20)} ${escapeMrkdwn(truncate(v.alert.rule, 120))} · ${alertSubject(v.alert) ? inlineCode(alertSubject(v.alert)!, 80) : "–"} · ${slackDate(v.alert.time)} · ${v.state}`,
    );
  const more = items.length - lines.length;
  const title = `*Your open alerts (${items.length})*`;
  const blocks: Block[] = [{ type: "section", text: md(truncate(`${title}\n${lines.join("\n")}`, 3000)) }];
  blocks.push({
    type: "context",
    elements: [
      md(
        `${more > 0 ? `and ${more} more. ` : ""}\`/falco <uuid>\` shows one; the Home tab lists them with their buttons.`,
      ),
    ],
  });
  return { text: `Your open alerts (${items.length})`, blocks };
}

export const HELP_TEXT = [
  "*Falco alerts, from Slack*",
  "`/falco <uuid>` – show one alert (the first 8 or more characters of its uuid are enough)",
  "`/falco report <uuid>` – the written incident report for one alert (event breakdown, observations, next steps)",
  "`/falco recent` – the last 10 alerts",
  "`/falco mine` – the open alerts you own (press *Take it* on an alert to own it)",
  "`/falco silences` – the active silences, each with its Unsilence button",
  "`/falco tuning` – the saved Falco exceptions, each with a Withdraw button",
  "`/falco health` – Falco's hosts by state: silent, dropping events, healthy",
  "`/falco help` – this help",
].join("\n");

export function renderHelp(prefix?: string): SlackMessage {
  const text = prefix ? `${prefix}\n\n${HELP_TEXT}` : HELP_TEXT;
  return { text: prefix ?? "falco-chatops help", blocks: [{ type: "section", text: md(text) }] };
}

export function renderNotice(text: string): SlackMessage {
  return { text, blocks: [{ type: "section", text: md(text) }] };
}
