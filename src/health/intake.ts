import type { FalcoAlert } from "../falco/alert.js";
import type { HealthJobs } from "../queue/health-jobs.js";
import type { HealthStore } from "../store/health-store.js";
import { type HealthSignal, healthSignalOf, hostId, hostOf } from "./signals.js";
import { EPISODE_GAP_SECONDS } from "./state.js";

/** An alert that is a health signal, as ingest hands it over. */
export interface HealthItem {
  alert: FalcoAlert;
  receivedAt: Date;
  signal: HealthSignal;
}

export interface HealthIntakeOptions {
  store: HealthStore;
  /** Queues the post or update of a host's drops message. */
  jobs: Pick<HealthJobs, "showEpisode">;
  /** Drop alerts are kept as long as alerts are, so that a late report still knows of them. */
  retentionSeconds: number;
  /**
   * How stale a host's last seen may be: a host already written this recently by this process is not
   * written again. A storm from one host then costs no Redis command per batch, and a host coming
   * back after a silence is written at once. Default 5 s.
   */
  lastSeenResolutionMs?: number;
}

/** Past this many hosts, the memory of what this process wrote starts afresh (hostnames are untrusted). */
const MAX_REMEMBERED_HOSTS = 50_000;

/**
 * Ingest's side of Falco's health: every batch refreshes its hosts' last seen (one command, sent
 * beside the batch's store call), and health signals are recorded instead of stored as alerts:
 * a metrics snapshot in its host's record, drops and timeouts in its host's visibility episode,
 * whose message the health queue posts.
 */
export class HealthIntake {
  /** Host → the arrival time this process last wrote as its last seen. */
  private readonly written = new Map<string, number>();
  private readonly resolutionMs: number;

  constructor(private readonly options: HealthIntakeOptions) {
    this.resolutionMs = options.lastSeenResolutionMs ?? 5000;
  }

  signalOf(alert: FalcoAlert): HealthSignal | null {
    return healthSignalOf(alert);
  }

  /**
   * Records when each host was last heard from: the latest arrival per host, one HSET, leaving out
   * the hosts this process wrote less than the resolution ago.
   */
  async seen(alerts: readonly { alert: FalcoAlert; receivedAt: Date }[]): Promise<void> {
    const hosts = new Map<string, number>();
    for (const { alert, receivedAt } of alerts) {
      const host = hostOf(alert);
      const at = receivedAt.getTime();
      if (at - (this.written.get(host) ?? Number.NEGATIVE_INFINITY) < this.resolutionMs) continue;
      if ((hosts.get(host) ?? 0) < at) hosts.set(host, at);
    }
    if (hosts.size === 0) return;
    if (this.written.size + hosts.size > MAX_REMEMBERED_HOSTS) this.written.clear();
    for (const [host, at] of hosts) this.written.set(host, at);
    try {
      await this.options.store.seen(hosts);
    } catch (error) {
      // Not written: the next alert from these hosts must try again.
      for (const host of hosts.keys()) this.written.delete(host);
      throw error;
    }
  }

  /** Records health signals; resolves once each is recorded and its message queued. */
  async record(items: readonly HealthItem[]): Promise<void> {
    const { store, jobs } = this.options;
    const episodes = new Set<string>();
    for (const { alert, receivedAt, signal } of items) {
      const host = hostOf(alert);
      const at = receivedAt.getTime();
      if (signal.kind === "metrics") {
        await store.recordSnapshot(host, at, signal.snapshot);
        continue;
      }
      const recorded = await store.recordLoss(
        {
          host,
          kind: signal.kind,
          at,
          drops: signal.kind === "drops" ? (signal.drops ?? 0) : 0,
          falcoTime: alert.time,
          lastEventTime: signal.kind === "timeouts" ? signal.lastEventTime : null,
        },
        { episodeGapSeconds: EPISODE_GAP_SECONDS, keepSeconds: this.options.retentionSeconds },
      );
      if (recorded.status !== "copy") episodes.add(host);
    }
    await Promise.all([...episodes].map((host) => jobs.showEpisode(host, hostId(host))));
  }
}
