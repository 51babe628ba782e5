import type { FalcoAlert } from "../src/falco/alert.js";
import { alertSubject } from "../src/falco/family.js";
import { PRIORITY_EMOJI } from "./alert-line.js";
import { ACTIONS, ownerText } from "./alert-message.js";
import { escapeMrkdwn, inlineCode, slackDate, truncate } from "./escape.js";
import { button, md, plainText } from "./layout.js";
import { type Block, type ButtonElement, LIMITS } from "./limits.js";
import type { TriageState } from "./triage.js";

/*
 * The bot's Home tab: what is open, section by section, each alert with the buttons of its message.
 * The alert sections are made here from alerts; any other kind of section (the active silences, the
 * tuning set) is a HomeSection its own module makes, passed to renderHome beside them.
 */

/** Slack shows at most 100 blocks on the Home tab. */
export const HOME_MAX_BLOCKS = 100;
/** Alerts listed per section before "and N more". */
export const HOME_ROWS_PER_SECTION = 5;

/** One entry of a section: a line of (escaped) mrkdwn and its buttons. */
export interface HomeRow {
  /** Unique within its section: part of the block ids. */
  key: string;
  text: string;
  buttons: ButtonElement[];
}

/** A titled list on the Home tab; `rows` is all of them, renderHome shows as many as fit. */
export interface HomeSection {
  /** Unique on the tab: part of the block ids. */
  id: string;
  title: string;
  rows: HomeRow[];
  /** Said when there are no rows. */
  empty: string;
  /** Said after "and N more", e.g. where to find the rest. */
  moreHint?: string;
}

/** An alert as a Home tab row shows it. */
export interface HomeAlert {
  alert: FalcoAlert;
  triage: TriageState;
  state: string;
}

export interface HomeView {
  type: "home";
  callback_id: string;
  blocks: Block[];
}

export const HOME_CALLBACK_ID = "falco_home";

/** An alert's row: what and where, its state and owner, and the buttons that still apply for `viewer`. */
export function alertRow(item: HomeAlert, viewer: string): HomeRow {
  const { alert, triage } = item;
  const subject = alertSubject(alert);
  const lines = [
    `${PRIORITY_EMOJI[alert.priority]} *${escapeMrkdwn(alert.priority)}: ${escapeMrkdwn(truncate(alert.rule, 200))}*`,
    `${subject ? `${inlineCode(subject, 150)} · ` : ""}${slackDate(alert.time)} · ${escapeMrkdwn(item.state)} · uuid ${inlineCode(alert.uuid.slice(0, 8), 20)}`,
  ];
  if (triage.ownedBy) lines.push(ownerText(triage));
  const buttons: ButtonElement[] = [];
  if (!triage.acknowledgedBy) buttons.push(button("Acknowledge", ACTIONS.acknowledge, alert.uuid, "primary"));
  if (!triage.escalatedBy) buttons.push(button("Escalate", ACTIONS.escalate, alert.uuid, "danger"));
  if (triage.ownedBy !== viewer) buttons.push(button("Take it", ACTIONS.take, alert.uuid));
  buttons.push(button("Assign…", ACTIONS.assign, alert.uuid));
  return { key: alert.uuid, text: truncate(lines.join("\n"), LIMITS.sectionText), buttons };
}

/** A section of alerts, newest first as given. */
export function alertSection(
  section: { id: string; title: string; empty: string; moreHint?: string },
  alerts: HomeAlert[],
  viewer: string,
): HomeSection {
  return { ...section, rows: alerts.map((a) => alertRow(a, viewer)) };
}

function blockId(...parts: string[]): string {
  return truncate(parts.join("_"), 255);
}

function sectionBlocks(section: HomeSection, shown: number): Block[] {
  const blocks: Block[] = [{ type: "header", text: plainText(section.title, LIMITS.headerText) }];
  if (section.rows.length === 0)
    blocks.push({ type: "context", elements: [md(escapeMrkdwn(section.empty))] });
  for (const row of section.rows.slice(0, shown)) {
    blocks.push({ type: "section", block_id: blockId("home", section.id, row.key), text: md(row.text) });
    if (row.buttons.length)
      blocks.push({
        type: "actions",
        block_id: blockId("home", section.id, row.key, "actions"),
        elements: row.buttons,
      });
  }
  const more = section.rows.length - Math.min(shown, section.rows.length);
  if (more > 0)
    blocks.push({
      type: "context",
      elements: [
        md(
          `and ${more.toLocaleString("en-US")} more${section.moreHint ? ` ${escapeMrkdwn(section.moreHint)}` : ""}`,
        ),
      ],
    });
  return blocks;
}

/**
 * The Home tab from its sections, in order. Each lists up to HOME_ROWS_PER_SECTION rows and counts
 * the rest; with many sections, fewer rows each, so that the tab stays within Slack's 100 blocks
 * however many alerts there are.
 */
export function renderHome(sections: HomeSection[]): HomeView {
  const top: Block[] = [
    {
      type: "section",
      text: md(
        "*Falco alerts*\nWhat is open, newest first. The buttons work as on the alert messages; `/falco mine` lists what you own.",
      ),
    },
  ];
  const build = (rows: number): Block[] => {
    const blocks = [...top];
    for (const section of sections) blocks.push({ type: "divider" }, ...sectionBlocks(section, rows));
    return blocks;
  };
  let rows = HOME_ROWS_PER_SECTION;
  let blocks = build(rows);
  while (blocks.length > HOME_MAX_BLOCKS && rows > 0) blocks = build(--rows);
  return { type: "home", callback_id: HOME_CALLBACK_ID, blocks: blocks.slice(0, HOME_MAX_BLOCKS) };
}
