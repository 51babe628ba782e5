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
}

/**
 * Ingest's side of Falco's health: every batch refreshes its hosts' last seen (one command, sent
 * beside the batch's store call), and health signals are recorded instead of stored as alerts:
 * a metrics snapshot in its host's record, drops and timeouts in its host's visibility episode,
 * whose message the health queue posts.
 */
export class HealthIntake {
  constructor(private readonly options: HealthIntakeOptions) {}

  signalOf(alert: FalcoAlert): HealthSignal | null {
    return healthSignalOf(alert);
  }

  /** Records when each host was last heard from: the latest arrival per host, one HSET. */
  async seen(alerts: readonly { alert: FalcoAlert; receivedAt: Date }[]): Promise<void> {
    const hosts = new Map<string, number>();
    for (const { alert, receivedAt } of alerts) {
      const host = hostOf(alert);
      const at = receivedAt.getTime();
      if ((hosts.get(host) ?? 0) < at) hosts.set(host, at);
    }
    await this.options.store.seen(hosts);
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
