import {
  countByState,
  durationText,
  type HostHealth,
  type HostState,
  PARTIAL_VISIBILITY_SECONDS,
} from "../src/health/state.js";
import { escapeMrkdwn, inlineCode, slackDate, truncate } from "./escape.js";
import { md, plainText } from "./layout.js";
import { type Block, LIMITS, type SlackMessage } from "./limits.js";

/*
 * Falco's own health in Slack: a host's outage (silent, then back), a host's visibility episode
 * (drops and timeouts notifications), and the list `/falco health` answers. Host names come from
 * alerts, so they are attacker-controlled: always escaped, cut, never a mention or a link.
 */

/** Host names are cut to this many characters in messages (DNS names have at most 253). */
const HOST_SHOWN = 120;

/** The host in mrkdwn: inline code, or a word for the host that sends no name. */
export function hostText(host: string): string {
  return host.trim() === "" ? "_(no hostname)_" : inlineCode(host, HOST_SHOWN);
}

/** The host in a plain_text header or in notification text (escaped there: it is mrkdwn). */
function hostPlain(host: string): string {
  return host.trim() === "" ? "(no hostname)" : truncate(host.replace(/\s+/g, " "), HOST_SHOWN);
}

const iso = (ms: number) => new Date(ms).toISOString();
const count = (n: number) => n.toLocaleString("en-US");

export interface OutageView {
  host: string;
  /** Its last sign of life, ms. */
  since: number;
  /** When it was heard from again, ms; null while silent. */
  backAt: number | null;
  heartbeatMissingSeconds: number;
}

/** The one message of a host's outage: posted when it goes silent, updated when it is back. */
export function outageMessage(view: OutageView): SlackMessage {
  const name = hostPlain(view.host);
  if (view.backAt === null) {
    return {
      text: escapeMrkdwn(`Falco on ${name} is silent`),
      blocks: [
        { type: "header", text: plainText(`:mute: Falco silent: ${name}`, LIMITS.headerText) },
        {
          type: "section",
          text: md(
            `Falco on ${hostText(view.host)} has sent nothing since ${slackDate(iso(view.since))}, not even its metrics snapshot (the heartbeat), for more than ${durationText(view.heartbeatMissingSeconds * 1000)}. Until it is back, nothing on this host is being watched.`,
          ),
        },
        {
          type: "context",
          elements: [
            md(
              "Check the Falco pod or service on this host (crash loop, evicted, driver failed to load), and the network between it and falco-chatops. This message is updated when the host is heard from again.",
            ),
          ],
        },
      ],
    };
  }
  const silentFor = durationText(view.backAt - view.since);
  return {
    text: escapeMrkdwn(`Falco on ${name} is back after ${silentFor}`),
    blocks: [
      { type: "header", text: plainText(`:white_check_mark: Falco back: ${name}`, LIMITS.headerText) },
      {
        type: "section",
        text: md(
          `Falco on ${hostText(view.host)} is back after ${silentFor}: nothing arrived from it between ${slackDate(iso(view.since))} and ${slackDate(iso(view.backAt))}. What happened on the host in that time was not watched.`,
        ),
      },
    ],
  };
}

export interface EpisodeView {
  host: string;
  startedAt: number;
  lastAt: number;
  drops: number;
  dropAlerts: number;
  timeouts: number;
  lastEventTime: string | null;
}

/** The one message of a host's visibility episode, updated as more drops and timeouts arrive. */
export function episodeMessage(view: EpisodeView): SlackMessage {
  const name = hostPlain(view.host);
  const span =
    view.startedAt === view.lastAt
      ? `at ${slackDate(iso(view.startedAt))}`
      : `between ${slackDate(iso(view.startedAt))} and ${slackDate(iso(view.lastAt))}`;
  const lines: string[] = [];
  if (view.dropAlerts > 0)
    lines.push(
      `Falco on ${hostText(view.host)} dropped *${count(view.drops)} system call events* ${span}, in ${count(view.dropAlerts)} syscall event drop alert${view.dropAlerts === 1 ? "" : "s"} (each counts the drops of one second; Falco sends at most one per \`syscall_event_drops.rate\`).`,
    );
  if (view.timeouts > 0)
    lines.push(
      `${view.dropAlerts > 0 ? "It also sent" : `Falco on ${hostText(view.host)} sent`} *${count(view.timeouts)} timeouts notification${view.timeouts === 1 ? "" : "s"}* ${view.dropAlerts > 0 ? "" : `${span} `}: its driver delivered no events for a long run of reads${view.lastEventTime ? ` (last event at ${inlineCode(view.lastEventTime, 40)})` : ""}.`,
    );
  const title = view.dropAlerts > 0 ? "Falco dropping events" : "Falco receiving no events";
  return {
    text: escapeMrkdwn(
      view.dropAlerts > 0
        ? `Falco on ${name} dropped ${count(view.drops)} events`
        : `Falco on ${name} sent ${count(view.timeouts)} timeouts notifications`,
    ),
    blocks: [
      { type: "header", text: plainText(`:warning: ${title}: ${name}`, LIMITS.headerText) },
      { type: "section", text: md(truncate(lines.join("\n\n"), LIMITS.sectionText)) },
      {
        type: "context",
        elements: [
          md(
            `Some activity on this host went unseen. Alerts from it within ${PARTIAL_VISIBILITY_SECONDS / 60} minutes of a drop say so. Usual causes: a burst of system calls larger than the driver's buffer (\`engine.*.buf_size_preset\`), or a CPU-starved Falco.`,
          ),
        ],
      },
    ],
  };
}

const STATE_TITLES: Record<HostState, string> = {
  silent: ":mute: *Silent*",
  dropping: ":warning: *Dropping events*",
  healthy: ":white_check_mark: *Healthy*",
};

/** Hosts listed per state, at most; the JSON at GET /health/falco has them all. */
export const HOSTS_LISTED = 40;

function hostLine(h: HostHealth, now: number): string {
  const parts = [hostText(h.host)];
  if (h.state === "silent" && h.silentSince)
    parts.push(`silent for ${durationText(now - Date.parse(h.silentSince))}`);
  else if (h.lastSeenAt) parts.push(`last seen ${durationText(now - Date.parse(h.lastSeenAt))} ago`);
  if (h.recent && (h.recent.dropAlerts > 0 || h.recent.timeouts > 0)) {
    const what: string[] = [];
    if (h.recent.dropAlerts > 0) what.push(`${count(h.recent.drops)} events dropped`);
    if (h.recent.timeouts > 0) what.push(`${count(h.recent.timeouts)} timeouts notifications`);
    parts.push(`${what.join(", ")} in the last ${PARTIAL_VISIBILITY_SECONDS / 60} min`);
  }
  if (h.snapshot) {
    const s = h.snapshot;
    const figures = [
      s.falcoVersion ? `Falco ${escapeMrkdwn(truncate(s.falcoVersion, 40))}` : null,
      s.evtsRate !== null ? `${count(s.evtsRate)} evts/s` : null,
      s.dropsPercent !== null ? `${s.dropsPercent}% dropped` : null,
      s.rulesFiles.length ? `${s.rulesFiles.length} rules file${s.rulesFiles.length === 1 ? "" : "s"}` : null,
    ].filter(Boolean);
    if (figures.length) parts.push(figures.join(", "));
  } else parts.push("no heartbeat (no metrics snapshot yet)");
  return `• ${parts.join(" · ")}`;
}

/** `/falco health`: hosts by state, silent first. */
export function renderHealthList(
  hosts: HostHealth[],
  options: { now: number; heartbeatMissingSeconds: number },
): SlackMessage {
  const counts = countByState(hosts);
  const summary = `${count(counts.silent)} silent · ${count(counts.dropping)} dropping events · ${count(counts.healthy)} healthy`;
  if (hosts.length === 0)
    return {
      text: "No Falco host has sent anything yet.",
      blocks: [
        {
          type: "section",
          text: md(
            "No Falco host has sent anything yet. Hosts appear here with their first alert; turn on Falco's metrics snapshot (`metrics.output_rule`) for a heartbeat.",
          ),
        },
      ],
    };
  const blocks: Block[] = [
    { type: "header", text: plainText("Falco hosts", LIMITS.headerText) },
    {
      type: "context",
      elements: [
        md(
          `${summary}. ${options.heartbeatMissingSeconds > 0 ? `Silent: a host with a heartbeat that sent nothing for ${durationText(options.heartbeatMissingSeconds * 1000)}.` : "The heartbeat check is off (HEARTBEAT_MISSING_SECONDS=0)."}`,
        ),
      ],
    },
  ];
  // Slack holds about 12,000 characters per message: hosts past that budget are counted, not listed.
  let budget = LIMITS.messageChars - 1000;
  for (const state of ["silent", "dropping", "healthy"] as const) {
    const these = hosts.filter((h) => h.state === state);
    if (these.length === 0) continue;
    let text = `${STATE_TITLES[state]} (${count(these.length)})`;
    let listed = 0;
    for (const h of these.slice(0, HOSTS_LISTED)) {
      const line = hostLine(h, options.now);
      if (line.length + 1 > budget - 200) break;
      budget -= line.length + 1;
      listed++;
      if (text.length + 1 + line.length > LIMITS.sectionText) {
        blocks.push({ type: "section", text: md(text) });
        text = line;
      } else text += `\n${line}`;
    }
    if (listed < these.length) {
      const more = `…and ${count(these.length - listed)} more (all of them: \`GET /health/falco\`)`;
      budget -= more.length + 1;
      if (text.length + 1 + more.length > LIMITS.sectionText) {
        blocks.push({ type: "section", text: md(text) });
        text = more;
      } else text += `\n${more}`;
    }
    blocks.push({ type: "section", text: md(text) });
  }
  return { text: escapeMrkdwn(`Falco hosts: ${summary}`), blocks };
}
