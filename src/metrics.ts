import { Counter, collectDefaultMetrics, Gauge, Histogram, register } from "prom-client";

/**
 * Prometheus metrics, served at GET /metrics by the web process (and, in the all-in-one process,
 * including the worker's). Names follow Prometheus conventions: `_total` counters, seconds.
 */
let defaultsStarted = false;
export function startProcessMetrics(): void {
  if (defaultsStarted) return;
  defaultsStarted = true;
  collectDefaultMetrics({ prefix: "falco_chatops_" });
}

export const alertsAccepted = new Counter({
  name: "falco_chatops_alerts_accepted_total",
  help: "Alerts accepted by POST /falco, by Falco source and outcome (new, grouped, duplicate).",
  labelNames: ["source", "outcome"] as const,
});

export const alertsRejected = new Counter({
  name: "falco_chatops_alerts_rejected_total",
  help: "POST /falco requests refused, by reason (bad_request, unauthorized, too_large, unsupported_type, redis_unavailable).",
  labelNames: ["reason"] as const,
});

export const slackCalls = new Counter({
  name: "falco_chatops_slack_calls_total",
  help: "Slack Web API calls made by the worker, by method and outcome (ok, rate_limited, or Slack's error code).",
  labelNames: ["method", "outcome"] as const,
});

export const deliveryFailures = new Counter({
  name: "falco_chatops_delivery_failures_total",
  help: "Alerts whose delivery failed for good (the alert stays stored), by error.",
  labelNames: ["error"] as const,
});

export const enrichmentMatches = new Counter({
  name: "falco_chatops_enrichment_matches_total",
  help: "Alerts enriched at posting time, by how the knowledge base matched (rule, tag, fallback).",
  labelNames: ["match"] as const,
});

export const alertToSlackSeconds = new Histogram({
  name: "falco_chatops_alert_to_slack_seconds",
  help: "Time from an alert's arrival to its first Slack message (or preview).",
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
});

export const queueJobs = new Gauge({
  name: "falco_chatops_queue_jobs",
  help: "Delivery jobs per channel queue and state (waiting, delayed, active, failed), read at scrape time.",
  labelNames: ["queue", "state"] as const,
});

export const groupsOpen = new Gauge({
  name: "falco_chatops_groups_open",
  help: "Alert groups whose window is still open (new occurrences update their message), read at scrape time.",
});

// Read at scrape time from the web process's POST /falco budget (the last one created, should a
// process, a test say, create several).
let ingestBudget: { reserved: number; queued: number } | null = null;
export function watchIngestBudget(budget: { reserved: number; queued: number }): void {
  ingestBudget = budget;
}

export const ingestBytesInFlight = new Gauge({
  name: "falco_chatops_ingest_bytes_in_flight",
  help: "Bytes of POST /falco requests being read, parsed or stored (bounded by INGEST_MAX_BYTES_IN_FLIGHT).",
  collect() {
    this.set(ingestBudget?.reserved ?? 0);
  },
});

export const ingestRequestsWaiting = new Gauge({
  name: "falco_chatops_ingest_requests_waiting",
  help: "POST /falco requests waiting, body unread, for room under INGEST_MAX_BYTES_IN_FLIGHT.",
  collect() {
    this.set(ingestBudget?.queued ?? 0);
  },
});

// Read at scrape time from the Falco hosts' health records (see src/health), by the web process that
// set the reader last; a scrape that cannot read them in time keeps the figures it had.
type FalcoHostsReader = () => Promise<Record<string, number>>;
let falcoHostsReader: FalcoHostsReader | null = null;
/** Reads the hosts' counts at scrape time from now on; the answer stops it (if no one came since). */
export function watchFalcoHosts(read: FalcoHostsReader): () => void {
  falcoHostsReader = read;
  return () => {
    if (falcoHostsReader === read) falcoHostsReader = null;
  };
}

export const falcoHosts = new Gauge({
  name: "falco_chatops_falco_hosts",
  help: "Falco hosts by health state (silent, dropping, healthy), read at scrape time.",
  labelNames: ["state"] as const,
  async collect() {
    const read = falcoHostsReader;
    if (!read) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      const counts = await Promise.race([
        read(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("timed out")), 2000);
        }),
      ]);
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    } catch {
      // Redis is away: the gauge keeps its last figures rather than failing the scrape.
    } finally {
      clearTimeout(timer);
    }
  },
});

/** Response times are minutes to days: buckets from a minute to a week. */
const RESPONSE_BUCKETS = [60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200, 604800];

export const verdicts = new Counter({
  name: "falco_chatops_verdicts_total",
  help: "Alerts resolved in Slack, by rule and verdict (true_positive, false_positive, expected_activity, duplicate); an alert reopened and resolved again counts again.",
  labelNames: ["rule", "verdict"] as const,
});

export const timeToAcknowledgeSeconds = new Histogram({
  name: "falco_chatops_time_to_acknowledge_seconds",
  help: "Time from an alert's arrival to its acknowledgement in Slack, by priority.",
  labelNames: ["priority"] as const,
  buckets: RESPONSE_BUCKETS,
});

export const timeToResolveSeconds = new Histogram({
  name: "falco_chatops_time_to_resolve_seconds",
  help: "Time from an alert's arrival to its resolution in Slack, by priority.",
  labelNames: ["priority"] as const,
  buckets: RESPONSE_BUCKETS,
});

/** Seconds from an alert's arrival to `at`; null when its arrival cannot be read. */
export function secondsSinceArrival(receivedAt: string, at: Date): number | null {
  const since = Date.parse(receivedAt);
  return Number.isNaN(since) ? null : Math.max(0, (at.getTime() - since) / 1000);
}

export { register };
