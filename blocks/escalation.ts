import type { FalcoAlert } from "../src/falco/alert.js";
import { alertSubject } from "../src/falco/family.js";
import { PRIORITY_EMOJI, fallbackText } from "./alert-line.js";
import { escapeMrkdwn, inlineCode, permalinkLink, userMention } from "./escape.js";
import { md, plainText } from "./layout.js";
import { LIMITS, type SlackMessage } from "./limits.js";

/** Posted to the escalation channel: what, who escalated it, and a link back to the original. */
export function renderEscalation(alert: FalcoAlert, userId: string, permalink: string | null): SlackMessage {
  const link = permalinkLink(permalink, "View the original alert") ?? "Original alert link unavailable";
  return {
    text: `Escalated by ${userMention(userId)}: ${fallbackText(alert)}`,
    blocks: [
      {
        type: "header",
        text: plainText(`:arrow_double_up: Escalated: ${alert.rule}`, LIMITS.headerText),
      },
      {
        type: "section",
        text: md(
          `${PRIORITY_EMOJI[alert.priority]} *${alert.priority}* alert ${escapeMrkdwn(alertSubject(alert) ? `on ${alertSubject(alert)}` : "")} escalated by ${userMention(userId)}.\n${link}`,
        ),
      },
      {
        type: "context",
        elements: [
          md(`uuid ${inlineCode(alert.uuid, 130)} · look it up with \`/falco ${escapeMrkdwn(alert.uuid)}\``),
        ],
      },
    ],
  };
}
