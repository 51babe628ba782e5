import type { Priority } from "../src/falco/priority.js";
import { PRIORITY_EMOJI } from "./alert-line.js";
import { escapeMrkdwn, inlineCode, permalinkLink, slackDate, truncate, userMention } from "./escape.js";
import { button, fieldRow, md, plainText } from "./layout.js";
import { type Block, type ButtonElement, LIMITS, type SlackMessage, type TextObject } from "./limits.js";
import { noteLine, type ResolutionView, resolvedLine } from "./resolution.js";
import { type ModalView, verdictInputs } from "./resolve-modal.js";

/*
 * A fleet roll-up's message: one rule firing on many hosts, pods or namespaces at once, shown as one
 * message whose counts climb in place instead of a message per group. Its size is fixed (the busiest
 * few places, then counts), so that it fits Slack's limits whatever the number of members; host, pod
 * and namespace names come from alerts and are escaped, cut and shown as code.
 */

/** The roll-up's buttons: they act on the roll-up and every member group (value: the roll-up's id). */
export const ROLLUP_ACTIONS = {
  acknowledge: "falco_rollup_acknowledge",
  escalate: "falco_rollup_escalate",
  resolve: "falco_rollup_resolve",
  report: "falco_rollup_report",
  silence: "falco_rollup_silence",
} as const;

/** Names shown per list of busiest places, and the characters of each. */
export const BUSIEST_SHOWN = 5;
const NAME_CHARS = 100;

export interface PlaceTallyView {
  count: number;
  busiest: { name: string; occurrences: number }[];
}

export interface RollupView {
  id: string;
  rule: string;
  priority: Priority;
  firstSeen: string;
  lastSeen: string;
  occurrences: number;
  groups: number;
  hosts: PlaceTallyView;
  pods: PlaceTallyView;
  namespaces: PlaceTallyView;
  /** New groups of the rule still join it. */
  open: boolean;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  escalatedBy: string | null;
  escalatedAt: string | null;
  resolution: ResolutionView | null;
}

const n = (x: number) => x.toLocaleString("en-US");
const plural = (x: number, one: string, many: string) => `${n(x)} ${x === 1 ? one : many}`;

/** "• `web-1` 1,204", one line per busiest place. */
function busiestField(label: string, tally: PlaceTallyView): TextObject {
  const lines = tally.busiest
    .slice(0, BUSIEST_SHOWN)
    .map((p) => `• ${inlineCode(p.name, NAME_CHARS) || "_(empty)_"} ${n(p.occurrences)}`);
  const more = tally.count > lines.length ? `\n_and ${n(tally.count - lines.length)} more_` : "";
  return fieldRow(`${label} (${n(tally.count)})`, `${lines.join("\n")}${more}`);
}

function stateLine(v: RollupView): string | null {
  const parts: string[] = [];
  if (v.acknowledgedBy)
    parts.push(
      `:white_check_mark: Acknowledged by ${userMention(v.acknowledgedBy)}${v.acknowledgedAt ? ` at ${slackDate(v.acknowledgedAt)}` : ""}`,
    );
  if (v.escalatedBy)
    parts.push(
      `:arrow_double_up: Escalated by ${userMention(v.escalatedBy)}${v.escalatedAt ? ` at ${slackDate(v.escalatedAt)}` : ""}`,
    );
  return parts.length ? `${parts.join("   ")} (every member)` : null;
}

/** One-line notification text. */
export function rollupFallbackText(v: RollupView): string {
  return escapeMrkdwn(
    truncate(
      `${v.priority}: ${v.rule} on ${plural(v.hosts.count, "host", "hosts")} (${plural(v.occurrences, "occurrence", "occurrences")})`,
      500,
    ),
  );
}

export function renderRollupMessage(v: RollupView): SlackMessage {
  const where = [
    plural(v.hosts.count, "host", "hosts"),
    plural(v.pods.count, "pod", "pods"),
    plural(v.namespaces.count, "namespace", "namespaces"),
  ];
  const blocks: Block[] = [
    {
      type: "header",
      text: plainText(
        `${PRIORITY_EMOJI[v.priority]} ${v.priority} across the fleet: ${v.rule}`,
        LIMITS.headerText,
      ),
    },
    {
      type: "section",
      text: md(
        truncate(
          `*${escapeMrkdwn(truncate(v.rule, 300))}* fired on *${where[0]}* (${where[1]}, ${where[2]}): *${plural(v.occurrences, "occurrence", "occurrences")}* in ${plural(v.groups, "group", "groups")}. ` +
            (v.open
              ? "Its new groups join this message instead of posting their own."
              : "This roll-up is closed: the rule's next new groups are posted again."),
          LIMITS.sectionText,
        ),
      ),
    },
  ];
  const fields: TextObject[] = [];
  if (v.hosts.count) fields.push(busiestField("Busiest hosts", v.hosts));
  if (v.pods.count) fields.push(busiestField("Busiest pods", v.pods));
  if (v.namespaces.count) fields.push(busiestField("Busiest namespaces", v.namespaces));
  if (fields.length) blocks.push({ type: "section", fields });
  blocks.push({
    type: "context",
    elements: [
      md(
        `:repeat: first ${slackDate(v.firstSeen)} · last ${slackDate(v.lastSeen)} · roll-up ${inlineCode(v.id, 130)}`,
      ),
    ],
  });
  const state = stateLine(v);
  if (state) blocks.push({ type: "context", elements: [md(state)] });
  if (v.resolution) {
    const note = noteLine(v.resolution);
    blocks.push({
      type: "context",
      elements: [md(`${resolvedLine(v.resolution)} (every member)`), ...(note ? [md(note)] : [])],
    });
  }
  const elements: ButtonElement[] = [];
  if (!v.resolution) {
    if (!v.acknowledgedBy)
      elements.push(button("Acknowledge all", ROLLUP_ACTIONS.acknowledge, v.id, "primary"));
    if (!v.escalatedBy) elements.push(button("Escalate", ROLLUP_ACTIONS.escalate, v.id, "danger"));
    elements.push(button("Resolve all", ROLLUP_ACTIONS.resolve, v.id));
  }
  elements.push(button("Full report", ROLLUP_ACTIONS.report, v.id));
  if (!v.resolution) elements.push(button("Silence", ROLLUP_ACTIONS.silence, v.id));
  blocks.push({ type: "actions", block_id: "falco_rollup_actions", elements });
  return { text: rollupFallbackText(v), blocks };
}

/** The member list for the roll-up's thread, split into messages that fit; at most `shown` members. */
export function rollupReportMessages(
  v: Pick<RollupView, "id" | "rule" | "groups">,
  members: { leader: string; host: string; pod: string; namespace: string; occurrences: number }[],
  more: { omitted: number; route: string },
): SlackMessage[] {
  const lines = members.map((m) =>
    [
      inlineCode(m.host, NAME_CHARS) || "_no host_",
      inlineCode(m.pod, NAME_CHARS) || "_no pod_",
      inlineCode(m.namespace, NAME_CHARS) || "_no namespace_",
      `${n(m.occurrences)} ×`,
      `uuid ${inlineCode(m.leader, 130)}`,
    ].join(" · "),
  );
  const title = `*Members of the roll-up of ${escapeMrkdwn(truncate(v.rule, 300))}* (${plural(v.groups, "group", "groups")}; host · pod · namespace · occurrences · first alert)`;
  const sections: string[] = [];
  let current = title;
  for (const line of lines) {
    if (current.length + 1 + line.length > LIMITS.sectionText) {
      sections.push(current);
      current = line;
    } else current += `\n${line}`;
  }
  sections.push(current);
  if (more.omitted > 0)
    sections.push(
      `_${plural(more.omitted, "more member", "more members")}, the quietest: every member is listed by ${inlineCode(more.route, 200)}._`,
    );
  // Three sections of at most 3,000 characters per message keep it under Slack's ~12,000.
  const messages: SlackMessage[] = [];
  for (let i = 0; i < sections.length; i += 3)
    messages.push({
      text: `Members of the roll-up ${escapeMrkdwn(v.id)}`,
      blocks: sections.slice(i, i + 3).map((text) => ({ type: "section", text: md(text) }) as Block),
    });
  return messages;
}

/** The Silence modal of a roll-up: the alert's modal, about the roll-up (private_metadata: its id). */
export const ROLLUP_SILENCE_CALLBACK = "falco_rollup_silence_modal";

/** The Resolve modal of a roll-up: the same verdict and note as an alert's, for every member at once. */
export const ROLLUP_RESOLVE_CALLBACK = "falco_rollup_resolve_modal";

export function rollupResolveModal(
  v: Pick<RollupView, "id" | "rule" | "priority" | "groups" | "hosts">,
  target: { rollup: string; channel: string; ts: string },
): ModalView {
  return {
    type: "modal",
    callback_id: ROLLUP_RESOLVE_CALLBACK,
    private_metadata: JSON.stringify(target),
    title: { type: "plain_text", text: "Resolve roll-up", emoji: true },
    submit: { type: "plain_text", text: "Resolve all", emoji: true },
    close: { type: "plain_text", text: "Cancel", emoji: true },
    blocks: [
      {
        type: "section",
        text: md(
          `${PRIORITY_EMOJI[v.priority]} *${escapeMrkdwn(v.priority)}: ${escapeMrkdwn(truncate(v.rule, 300))}* on ${plural(v.hosts.count, "host", "hosts")}\nThe verdict is recorded on the roll-up and on each of its ${plural(v.groups, "group", "groups")}.`,
        ),
      },
      ...verdictInputs(),
    ],
  };
}

/** Posted to the escalation channel when a roll-up is escalated. */
export function rollupEscalation(
  v: Pick<RollupView, "id" | "rule" | "priority" | "groups" | "hosts" | "occurrences">,
  userId: string,
  permalink: string | null,
): SlackMessage {
  const link = permalinkLink(permalink, "View the roll-up") ?? "Roll-up link unavailable";
  const what = `${escapeMrkdwn(truncate(v.rule, 300))} on ${plural(v.hosts.count, "host", "hosts")} (${plural(v.occurrences, "occurrence", "occurrences")})`;
  return {
    text: truncate(`Escalated by ${userMention(userId)}: ${v.priority} ${what}`, LIMITS.fallbackText),
    blocks: [
      {
        type: "header",
        text: plainText(`:arrow_double_up: Escalated fleet roll-up: ${v.rule}`, LIMITS.headerText),
      },
      {
        type: "section",
        text: md(
          truncate(
            `${PRIORITY_EMOJI[v.priority]} *${v.priority}* ${what}, escalated by ${userMention(userId)} with all ${plural(v.groups, "group", "groups")}.\n${link}`,
            LIMITS.sectionText,
          ),
        ),
      },
      {
        type: "context",
        elements: [md(`roll-up ${inlineCode(v.id, 130)} · \`GET /rollups/:id\` lists every member`)],
      },
    ],
  };
}
