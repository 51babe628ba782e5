import type { FalcoAlert } from "../falco/alert.js";
import { fieldValue, fieldText } from "../falco/alert.js";
import { type TuningException, exceptionMatches } from "./exception.js";

/** What an exception would have hidden among a rule's stored alerts. */
export interface ReplayResult {
  rule: string;
  /** The rule's stored alerts replayed (within retention). */
  replayed: number;
  hidden: number;
  /** How many the exception still lets through. */
  passed: number;
  /** Distinct hosts of the hidden alerts, most hidden first, at most MAX_LISTED. */
  hosts: Counted[];
  /** Distinct workloads (namespace/pod, image, or the host) of the hidden alerts, likewise. */
  workloads: Counted[];
  /** More distinct hosts or workloads than listed. */
  moreHosts: number;
  moreWorkloads: number;
  /** Alert times of the first and last hidden alert (Falco's time), or null when none was hidden. */
  firstSeen: string | null;
  lastSeen: string | null;
  /** The newest hidden alerts, newest first. */
  examples: { uuid: string; time: string; output: string }[];
}

export interface Counted {
  name: string;
  count: number;
}

export const MAX_EXAMPLES = 5;
export const MAX_LISTED = 10;
/** Distinct hosts and workloads counted at most: a replay's memory does not grow with the rule's noise. */
const MAX_DISTINCT = 1000;

/** Where an alert ran, as a person names a workload: the pod, else the image, else the host. */
export function workloadOf(alert: FalcoAlert): string {
  const text = (field: string) => {
    const v = fieldValue(alert, field);
    return v === undefined ? null : fieldText(v);
  };
  const ns = text("k8s.ns.name");
  const pod = text("k8s.pod.name");
  if (ns && pod) return `${ns}/${pod}`;
  const image = text("container.image.repository");
  if (image) return image;
  const container = text("container.id");
  if (container === "host") return "host";
  return container ? `container ${container}` : "unknown";
}

function bump(counts: Map<string, number>, key: string): void {
  const n = counts.get(key);
  if (n !== undefined) counts.set(key, n + 1);
  else if (counts.size < MAX_DISTINCT) counts.set(key, 1);
}

function top(counts: Map<string, number>): { listed: Counted[]; more: number } {
  const all = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return {
    listed: all.slice(0, MAX_LISTED).map(([name, count]) => ({ name, count })),
    more: Math.max(0, all.length - MAX_LISTED),
  };
}

/** Replays the exception over the rule's stored alerts, given in chunks (oldest first). */
export async function replayException(
  exception: Pick<TuningException, "rule" | "fields" | "comps" | "values">,
  chunks: AsyncIterable<FalcoAlert[]>,
): Promise<ReplayResult> {
  const candidate = { ...exception, id: "", name: "", alertUuid: "", createdBy: "", createdAt: "" };
  let replayed = 0;
  let hidden = 0;
  let firstSeen: string | null = null;
  let lastSeen: string | null = null;
  const hosts = new Map<string, number>();
  const workloads = new Map<string, number>();
  let examples: ReplayResult["examples"] = [];
  for await (const chunk of chunks) {
    for (const alert of chunk) {
      replayed++;
      if (!exceptionMatches(candidate, alert)) continue;
      hidden++;
      if (firstSeen === null || alert.time < firstSeen) firstSeen = alert.time;
      if (lastSeen === null || alert.time > lastSeen) lastSeen = alert.time;
      bump(hosts, alert.hostname ?? "unknown");
      bump(workloads, workloadOf(alert));
      examples.push({ uuid: alert.uuid, time: alert.time, output: alert.output });
      if (examples.length > MAX_EXAMPLES * 4)
        examples = examples.sort((a, b) => b.time.localeCompare(a.time)).slice(0, MAX_EXAMPLES);
    }
  }
  const h = top(hosts);
  const w = top(workloads);
  return {
    rule: exception.rule,
    replayed,
    hidden,
    passed: replayed - hidden,
    hosts: h.listed,
    moreHosts: h.more,
    workloads: w.listed,
    moreWorkloads: w.more,
    firstSeen,
    lastSeen,
    examples: examples.sort((a, b) => b.time.localeCompare(a.time)).slice(0, MAX_EXAMPLES),
  };
}
