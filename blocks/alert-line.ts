import type { FalcoAlert } from "../src/falco/alert.js";
import { alertSubject } from "../src/falco/family.js";
import type { Priority } from "../src/falco/priority.js";
import { escapeMrkdwn, truncate } from "./escape.js";

// An alert named in one line, as the alert message, the escalation and the lookups all name it.

export const PRIORITY_EMOJI: Record<Priority, string> = {
  Emergency: ":rotating_light:",
  Alert: ":rotating_light:",
  Critical: ":red_circle:",
  Error: ":large_orange_circle:",
  Warning: ":warning:",
  Notice: ":large_blue_circle:",
  Informational: ":information_source:",
  Debug: ":white_circle:",
};

/** One-line notification text: shown in push notifications and where blocks cannot be. */
export function fallbackText(alert: FalcoAlert): string {
  const subject = alertSubject(alert);
  const where = subject ? ` on ${subject}` : "";
  return escapeMrkdwn(truncate(`${alert.priority}: ${alert.rule}${where}`, 500));
}
