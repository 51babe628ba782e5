import type { MetricsSnapshot } from "./signals.js";

/**
 * An alert whose host dropped events this long before or after the alert's arrival carries the
 * "partial visibility" note; a host that dropped events (or sent a timeouts notification) this
 * recently is "dropping". A constant, not a setting: Falco sends at most one drop alert per 30 s
 * by default (`syscall_event_drops.rate`), so five minutes either side spans several of them.
 */
export const PARTIAL_VISIBILITY_SECONDS = 300;

/**
 * A host's drops and timeouts notifications are one episode, shown by one health message, until
 * this long passes without any; the next one then starts a new episode and a new message.
 */
export const EPISODE_GAP_SECONDS = 3600;

export const HOST_STATES = ["silent", "dropping", "healthy"] as const;
export type HostState = (typeof HOST_STATES)[number];

/** One drop alert or timeouts notification, as recorded for its host. */
export interface VisibilityEvent {
  kind: "drops" | "timeouts";
  /** Arrival, ms. */
  at: number;
  /** Events dropped (0 for timeouts, or when the alert did not say). */
  drops: number;
}

/** What a host lost over a span: events dropped, drop alerts, timeouts notifications, first and last. */
export interface VisibilityLoss {
  drops: number;
  dropAlerts: number;
  timeouts: number;
  /** ISO 8601 arrival of the first and the last of them. */
  from: string;
  to: string;
}

/** The events taken together; null when there are none. */
export function lossOf(events: readonly VisibilityEvent[]): VisibilityLoss | null {
  if (events.length === 0) return null;
  let drops = 0;
  let dropAlerts = 0;
  let timeouts = 0;
  let from = Infinity;
  let to = -Infinity;
  for (const e of events) {
    if (e.kind === "drops") {
      drops += e.drops;
      dropAlerts++;
    } else timeouts++;
    from = Math.min(from, e.at);
    to = Math.max(to, e.at);
  }
  return { drops, dropAlerts, timeouts, from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

/** The drops around an alert that an alert's message and report mention (timeouts are not drops). */
export function partialVisibilityOf(events: readonly VisibilityEvent[]): VisibilityLoss | null {
  const loss = lossOf(events.filter((e) => e.kind === "drops"));
  return loss && loss.dropAlerts > 0 ? loss : null;
}

/** The note in words, for the report: "this node dropped N events between … and …". */
export function partialVisibilityText(loss: VisibilityLoss): string {
  const span = loss.from === loss.to ? `at ${loss.from}` : `between ${loss.from} and ${loss.to}`;
  const alerts = `${loss.dropAlerts.toLocaleString("en-US")} syscall event drop alert${loss.dropAlerts === 1 ? "" : "s"} from Falco`;
  return `Partial visibility: this node dropped ${loss.drops.toLocaleString("en-US")} events ${span} (${alerts}). Activity around this alert may be missing from it and from other alerts.`;
}

/** Everything the store holds about one host. */
export interface HostRecord {
  host: string;
  /** Arrival of its latest alert of any kind, ms. */
  lastSeen: number | null;
  /** Its latest metrics snapshot and when it arrived (ms); null: it never sent one (no heartbeat). */
  snapshot: { at: number; figures: MetricsSnapshot } | null;
  /** Its open outage: since its last sign of life (ms), and when it was heard from again. */
  outage: { since: number; backAt: number | null } | null;
  /** Its drops and timeouts in the last PARTIAL_VISIBILITY_SECONDS. */
  recent: VisibilityLoss | null;
}

export interface HealthOptions {
  now: number;
  /** 0: the heartbeat is not checked, no host is silent. */
  heartbeatMissingSeconds: number;
}

/**
 * Silent: an open outage, or (with a heartbeat, checked) nothing for HEARTBEAT_MISSING_SECONDS;
 * dropping: drops or timeouts in the last PARTIAL_VISIBILITY_SECONDS; healthy otherwise. Only hosts
 * that sent a metrics snapshot have a heartbeat: a host whose Falco sends only alerts is quiet, not
 * silent, when nothing happens on it.
 */
export function hostState(record: HostRecord, options: HealthOptions): HostState {
  if (record.outage && record.outage.backAt === null) return "silent";
  const last = Math.max(record.lastSeen ?? 0, record.snapshot?.at ?? 0);
  if (
    options.heartbeatMissingSeconds > 0 &&
    record.snapshot &&
    options.now - last >= options.heartbeatMissingSeconds * 1000
  )
    return "silent";
  if (record.recent) return "dropping";
  return "healthy";
}

/** One host as `/falco health` and `GET /health/falco` show it. */
export interface HostHealth {
  host: string;
  state: HostState;
  lastSeenAt: string | null;
  /** Whether its heartbeat is checked (it sent a metrics snapshot). */
  heartbeat: boolean;
  silentSince: string | null;
  snapshot: ({ at: string } & MetricsSnapshot) | null;
  recent: VisibilityLoss | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function hostHealth(record: HostRecord, options: HealthOptions): HostHealth {
  const state = hostState(record, options);
  const last = Math.max(record.lastSeen ?? 0, record.snapshot?.at ?? 0) || null;
  return {
    host: record.host,
    state,
    lastSeenAt: iso(last),
    heartbeat: record.snapshot !== null,
    silentSince: state === "silent" ? iso(record.outage?.since ?? last) : null,
    snapshot: record.snapshot ? { at: iso(record.snapshot.at)!, ...record.snapshot.figures } : null,
    recent: record.recent,
  };
}

/** Hosts in the order the list shows them: silent, then dropping, then healthy; by name within. */
export function sortHosts(hosts: HostHealth[]): HostHealth[] {
  return [...hosts].sort(
    (a, b) => HOST_STATES.indexOf(a.state) - HOST_STATES.indexOf(b.state) || a.host.localeCompare(b.host),
  );
}

export function countByState(hosts: readonly HostHealth[]): Record<HostState, number> {
  const counts: Record<HostState, number> = { silent: 0, dropping: 0, healthy: 0 };
  for (const h of hosts) counts[h.state]++;
  return counts;
}

/** "45s", "7m 12s", "2h 5m", "3d 4h": a duration in its two largest units. */
export function durationText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const units: [number, string][] = [
    [86400, "d"],
    [3600, "h"],
    [60, "m"],
    [1, "s"],
  ];
  const i = units.findIndex(([size]) => s >= size);
  if (i < 0) return "0s";
  const [big, bigName] = units[i]!;
  const first = `${Math.floor(s / big)}${bigName}`;
  const next = units[i + 1];
  if (!next) return first;
  const rest = Math.floor((s % big) / next[0]);
  return rest > 0 ? `${first} ${rest}${next[1]}` : first;
}
