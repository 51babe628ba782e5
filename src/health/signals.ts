import { hash } from "node:crypto";
import type { FalcoAlert, FieldValue } from "../falco/alert.js";

/*
 * Falco reports on its own health through the same output as its alerts. The rule names and fields
 * are Falco's own (userspace/falco/stats_writer.cpp, event_drops.cpp and
 * app/actions/process_events.cpp): these three alerts are health signals, recorded per host rather
 * than posted. Other "Falco internal:" alerts (hot restart failure, capture size limit) stay alerts.
 */
export const HEALTH_RULES = {
  metrics: "Falco internal: metrics snapshot",
  drops: "Falco internal: syscall event drop",
  timeouts: "Falco internal: timeouts notification",
} as const;

/** The few figures of a metrics snapshot worth keeping; null where the snapshot did not say. */
export interface MetricsSnapshot {
  falcoVersion: string | null;
  /** Rules files Falco loaded (`falco.sha256_rules_file.<name>` keys; names as Falco sanitised them). */
  rulesFiles: string[];
  /** Rules with a match counter (`falco.rules.<rule>`; all loaded rules with `include_empty_values`). */
  rulesCounted: number | null;
  /** Events per second over the last interval (`falco.evts_rate_sec`, else `scap.evts_rate_sec`). */
  evtsRate: number | null;
  /** Percentage of kernel events dropped over the last interval (`scap.n_drops_perc`). */
  dropsPercent: number | null;
  /** Kernel events dropped over the last interval (`scap.n_drops` − `scap.n_drops_prev`). */
  drops: number | null;
  engine: string | null;
  kernel: string | null;
}

export type HealthSignal =
  | { kind: "metrics"; snapshot: MetricsSnapshot }
  /** Drops in the second before the alert (Falco rate-limits these alerts; 1 per 30 s by default). */
  | { kind: "drops"; drops: number | null; events: number | null }
  /** The driver gave no event for `syscall_event_timeouts.max_consecutives` reads. */
  | { kind: "timeouts"; lastEventTime: string | null };

/** A field as a finite number: Falco writes drop counts as strings ("6315305") and metrics as numbers. */
function numberOf(value: FieldValue | undefined): number | null {
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return null;
}

function textOf(value: FieldValue | undefined): string | null {
  if (typeof value === "string") return value.trim() === "" ? null : value;
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  return null;
}

const RULES_FILE_PREFIX = "falco.sha256_rules_file.";
const RULE_COUNTER_PREFIX = "falco.rules.";

export function metricsSnapshotOf(fields: Record<string, FieldValue>): MetricsSnapshot {
  const names = Object.keys(fields);
  const counters = names.filter(
    (n) => n.startsWith(RULE_COUNTER_PREFIX) && n !== "falco.rules.matches_total",
  );
  const drops = numberOf(fields["scap.n_drops"]);
  const dropsBefore = numberOf(fields["scap.n_drops_prev"]);
  return {
    falcoVersion: textOf(fields["falco.version"]),
    rulesFiles: names
      .filter((n) => n.startsWith(RULES_FILE_PREFIX))
      .map((n) => n.slice(RULES_FILE_PREFIX.length)),
    rulesCounted: counters.length > 0 ? counters.length : null,
    evtsRate: numberOf(fields["falco.evts_rate_sec"]) ?? numberOf(fields["scap.evts_rate_sec"]),
    dropsPercent: numberOf(fields["scap.n_drops_perc"]),
    drops: drops !== null && dropsBefore !== null && drops >= dropsBefore ? drops - dropsBefore : null,
    engine: textOf(fields["scap.engine_name"]),
    kernel: textOf(fields["falco.kernel_release"]),
  };
}

/** The health signal an alert is, or null for every other alert. */
export function healthSignalOf(alert: Pick<FalcoAlert, "rule" | "outputFields">): HealthSignal | null {
  const rule = alert.rule.trim();
  const fields = alert.outputFields;
  if (rule === HEALTH_RULES.metrics) return { kind: "metrics", snapshot: metricsSnapshotOf(fields) };
  if (rule === HEALTH_RULES.drops) {
    const drops = numberOf(fields.n_drops);
    const events = numberOf(fields.n_evts);
    return {
      kind: "drops",
      drops: drops !== null && drops >= 0 ? Math.round(drops) : null,
      events: events !== null && events >= 0 ? Math.round(events) : null,
    };
  }
  if (rule === HEALTH_RULES.timeouts) {
    const last = textOf(fields.last_event_time);
    return { kind: "timeouts", lastEventTime: last === "none" ? null : last };
  }
  return null;
}

/** DNS names are at most 253 characters; longer "host names" are cut and told apart by a hash. */
export const MAX_HOST_CHARS = 253;

/**
 * The host an alert's health counts for: its hostname ("" when it has none: Falco before 0.32 sent
 * none, so every such Falco shares that one record). An over-long name is cut and suffixed with a
 * hash of the whole, so that it stays one record and a bounded key.
 */
export function hostOf(alert: Pick<FalcoAlert, "hostname">): string {
  const name = alert.hostname ?? "";
  if (name.length <= MAX_HOST_CHARS) return name;
  const chars = [...name];
  if (chars.length <= MAX_HOST_CHARS) return name;
  return `${chars.slice(0, MAX_HOST_CHARS - 14).join("")}…${hash("sha256", name, "hex").slice(0, 12)}`;
}

/** A short stable id for a host, for job ids and Slack metadata (the name itself may be anything). */
export function hostId(host: string): string {
  return hash("sha256", host, "hex").slice(0, 16);
}
