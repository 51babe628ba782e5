import type { FalcoAlert } from "../falco/alert.js";
import { type Priority, priorityRank } from "../falco/priority.js";
import { scopeValue } from "./scope.js";

/**
 * A silence: while it lasts, alerts of its rule, at its priority or lower, whose values equal all of
 * its matchers are stored and counted but not posted.
 */
export interface Silence {
  id: string;
  rule: string;
  /** The priority of the alert it was made from: it never hides a more severe alert. */
  priority: Priority;
  /** Scope field id (see scope.ts) → the exact value to match; empty: the whole rule. */
  match: Record<string, string>;
  /** A Slack user id, or whoever the HTTP API was told made it. */
  createdBy: string;
  reason: string;
  createdAt: string;
  endsAt: string;
  /** The alert it was made from and that alert's message, when it was made in Slack. */
  alert: string | null;
  message: { channel: string; ts: string } | null;
  /** When it ended (lifted or expired); null while active. */
  endedAt: string | null;
  /** Who lifted it; null while active or when it expired. */
  endedBy: string | null;
}

/** The longest a silence may last. */
export const MAX_SILENCE_DAYS = 90;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The durations offered in the modal and accepted by the HTTP API. */
export const DURATIONS = {
  "1h": { label: "1 hour", ms: 60 * 60 * 1000 },
  "4h": { label: "4 hours", ms: 4 * 60 * 60 * 1000 },
  "1d": { label: "1 day", ms: DAY_MS },
  "7d": { label: "7 days", ms: 7 * DAY_MS },
} as const;
export type DurationChoice = keyof typeof DURATIONS;

export function isDurationChoice(value: string): value is DurationChoice {
  return Object.hasOwn(DURATIONS, value);
}

/**
 * When a silence chosen "until a date" (YYYY-MM-DD, as Slack's datepicker sends it) ends: when that
 * date begins, 00:00 UTC. Either the end, or why the date cannot be taken.
 */
export function untilDate(date: string, now: Date): { endsAt: Date } | { problem: string } {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const endsAt = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  if (!endsAt || Number.isNaN(endsAt.getTime()) || endsAt.toISOString().slice(0, 10) !== date)
    return { problem: "Pick a date from the calendar." };
  return checkEnd(endsAt, now);
}

/** Whether a silence may end then: in the future, and at most MAX_SILENCE_DAYS away. */
export function checkEnd(endsAt: Date, now: Date): { endsAt: Date } | { problem: string } {
  if (endsAt.getTime() <= now.getTime())
    return {
      problem: "That date is in the past: the silence would end before it starts (dates end at 00:00 UTC).",
    };
  if (endsAt.getTime() - now.getTime() > MAX_SILENCE_DAYS * DAY_MS)
    return { problem: `A silence lasts at most ${MAX_SILENCE_DAYS} days: pick an earlier date.` };
  return { endsAt };
}

/** Whether this silence hides this alert, at this moment. */
export function silences(silence: Silence, alert: FalcoAlert, now: number): boolean {
  if (silence.rule !== alert.rule || Date.parse(silence.endsAt) <= now || silence.endedAt) return false;
  if (priorityRank(alert.priority) < priorityRank(silence.priority)) return false;
  for (const [field, value] of Object.entries(silence.match))
    if (scopeValue(alert, field) !== value) return false;
  return true;
}
