import type { FalcoAlert } from "../falco/alert.js";
import type { HealthIntake, HealthItem } from "../health/intake.js";
import type { Priority } from "../falco/priority.js";
import { alertsAccepted } from "../metrics.js";
import type { DeliveryQueues } from "../queue/producer.js";
import { contentKeyOf, groupKeyOf, sampleOf } from "../route/grouping.js";
import { type Routing, routeAlert } from "../route/routes.js";
import { type AlertStore, CREATE_BATCH, type CreateOptions } from "../store/alert-store.js";
import { type DeliveryHold, holdOf } from "./holds.js";

export interface Intake {
  store: AlertStore;
  queues: DeliveryQueues;
  routing: Routing;
  grouping: CreateOptions & { fields: string[] };
  /** Silences and saved exceptions: a matching alert is stored and counted, not posted. */
  holds?: readonly DeliveryHold[];
  /** Falco's own health: last seen per host, and health signals recorded instead of stored as alerts. */
  health?: HealthIntake;
}

export interface Accepted {
  /** Alerts not stored again: a uuid already stored, or a re-sent copy of a stored alert. */
  duplicates: string[];
  /** Falco's reports on itself (metrics snapshots, drops, timeouts): recorded as host health, not stored as alerts. */
  health: string[];
}

/** One request's alerts. */
export interface IntakeBatch {
  alerts: FalcoAlert[];
  receivedAt: Date;
}

/**
 * Stores batches of alerts and queues what Slack must see: the first alert of each new group gets
 * a post, later ones an update of their group's message. Alerts below MIN_PRIORITY are stored only.
 * Resolves only after everything is stored and queued, so a 202 never covers a lost alert; several
 * requests' batches go in one store call and one queue call per channel.
 */
export async function acceptBatches(batches: IntakeBatch[], intake: Intake): Promise<Accepted[]> {
  const { health } = intake;
  // Health signals (metrics snapshots, drops, timeouts) go to the health record, not the alerts.
  const signals: HealthItem[] = [];
  const items = batches.flatMap(({ alerts, receivedAt }) =>
    alerts.flatMap((alert) => {
      const signal = health?.signalOf(alert) ?? null;
      if (signal) {
        signals.push({ alert, receivedAt, signal });
        alertsAccepted.inc({ source: alert.source, outcome: "health" });
        return [];
      }
      const decision = routeAlert(alert, intake.routing);
      return {
        alert,
        receivedAt,
        channel: decision.channel,
        post: decision.post,
        held: decision.post ? holdOf(intake.holds ?? [], alert, decision.channel) : null,
        groupKey: groupKeyOf(alert, intake.grouping.fields),
        sample: sampleOf(alert),
        contentKey: contentKeyOf(alert),
      };
    }),
  );
  const [outcomes] = await Promise.all([
    items.length > 0 ? intake.store.createMany(items, intake.grouping) : [],
    // Beside the store call, not after it: a second command on the wire, not a second round trip.
    health?.seen(batches.flatMap(({ alerts, receivedAt }) => alerts.map((alert) => ({ alert, receivedAt })))),
    signals.length > 0 ? health?.record(signals) : undefined,
  ]);
  // Each carries its alert's Falco priority, which decides its place in the channel's queue.
  const posts: { channel: string; uuid: string; priority: Priority }[] = [];
  const updates: { channel: string; leader: string; priority: Priority }[] = [];
  const rollupPosts: { channel: string; rollup: string; priority: Priority }[] = [];
  const rollupUpdates: { channel: string; rollup: string; priority: Priority }[] = [];
  /** Per item: not stored again (a uuid already stored, or a re-sent copy). */
  const duplicate: boolean[] = [];
  outcomes.forEach((outcome, i) => {
    const item = items[i]!;
    const { priority } = item.alert;
    alertsAccepted.inc({
      source: item.alert.source,
      outcome:
        outcome.kind === "member"
          ? "grouped"
          : outcome.kind === "leader"
            ? "new"
            : outcome.kind === "held"
              ? outcome.status
              : outcome.kind === "undelivered_rollup"
                ? "undelivered"
                : outcome.kind,
    });
    switch (outcome.kind) {
      case "leader":
        if (item.post) posts.push({ channel: item.channel, uuid: item.alert.uuid, priority });
        break;
      case "undelivered":
        // Stored already, by an earlier request (or earlier in this one) that may have failed
        // before queueing it: queue it again, which the job id makes a no-op otherwise.
        duplicate[i] = true;
        if (item.post) posts.push({ channel: item.channel, uuid: item.alert.uuid, priority });
        break;
      case "undelivered_rollup":
        // As undelivered: queue its roll-up's post again, which the job id makes a no-op otherwise.
        duplicate[i] = true;
        rollupPosts.push({ channel: item.channel, rollup: outcome.rollup, priority });
        break;
      case "member":
        if (!item.post) break;
        // A group in a fleet roll-up is counted on the roll-up's message, and on its own message
        // when it had one before the roll-up opened.
        if (outcome.rollup) rollupUpdates.push({ channel: item.channel, rollup: outcome.rollup, priority });
        if (!outcome.rollup || outcome.ownMessage)
          updates.push({ channel: item.channel, leader: outcome.leader, priority });
        break;
      case "rolled_up":
        (outcome.opened ? rollupPosts : rollupUpdates).push({
          channel: item.channel,
          rollup: outcome.rollup,
          priority,
        });
        break;
      case "held":
        break;
      case "duplicate":
        duplicate[i] = true;
        break;
      case "copy":
        // The copy is counted as the original. Queue the original again in case an earlier request
        // stored it but failed before queueing it: the job id makes this a no-op otherwise.
        duplicate[i] = true;
        if (item.post) posts.push({ channel: item.channel, uuid: outcome.original, priority });
        break;
    }
  });
  await Promise.all([
    intake.queues.enqueuePosts(posts),
    intake.queues.enqueueUpdates(updates),
    ...(rollupPosts.length ? [intake.queues.enqueueRollupPosts(rollupPosts)] : []),
    ...(rollupUpdates.length ? [intake.queues.enqueueRollupUpdates(rollupUpdates)] : []),
  ]);
  // Items leave out health signals, which are never duplicates: found by the alert, not the index.
  const duplicates = new Set(items.filter((_, i) => duplicate[i]).map((item) => item.alert));
  const healthSignals = new Set(signals.map((s) => s.alert));
  return batches.map(({ alerts }) => ({
    duplicates: duplicates.size ? alerts.filter((a) => duplicates.has(a)).map((a) => a.uuid) : [],
    health: healthSignals.size ? alerts.filter((a) => healthSignals.has(a)).map((a) => a.uuid) : [],
  }));
}

/** Stores and queues one request's alerts (see acceptBatches). */
export async function acceptAlerts(
  alerts: FalcoAlert[],
  receivedAt: Date,
  intake: Intake,
): Promise<Accepted> {
  const [accepted] = await acceptBatches([{ alerts, receivedAt }], intake);
  return accepted!;
}

/**
 * A commit is sent as soon as it holds this many alerts, without waiting for the end of the turn:
 * Redis then works on it while this process reads and validates the next requests, instead of the
 * two taking turns. Measured under the benchmark's single-alert load (64 connections, one alert
 * per request, 2 CPUs): sending at 4, 8, 12 and 24 alerts gave 18,200, 20,000, 19,500 and 18,100
 * alerts/s; waiting for the end of the turn (commits of 19 alerts on average) gave 16,200.
 */
export const EAGER_COMMIT_ALERTS = 8;

/**
 * Group commit for ingest: small requests (Falco's http_output sends one alert per request) are
 * stored and queued together, with one script call and one queue call per channel, instead of a
 * round trip each. A commit is sent once it holds EAGER_COMMIT_ALERTS alerts, or at the end of the
 * event-loop turn in which its first request arrived, whichever comes first; alone, a request
 * waits for nothing but the end of the current turn. Several commits may be in flight at once.
 * Each request still gets its own answer, and a failure fails every request of that commit (each
 * answers 503 and its sender retries). A commit holds at most CREATE_BATCH alerts, the store's one
 * script call, so that no request's alerts are split between two calls. Requests of CREATE_BATCH
 * or more go alone: merging them gains nothing and holds more alerts in memory at once (measured:
 * higher RSS, lower throughput).
 */
export class IntakeCommitter {
  private pending: { batch: IntakeBatch; resolve: (a: Accepted) => void; reject: (e: unknown) => void }[] =
    [];
  private pendingAlerts = 0;
  private scheduled = false;
  private readonly sendAt: number;

  constructor(
    private readonly intake: Intake,
    /** Alerts at which a commit is sent before the end of the turn (tests pass other values). */
    sendAt = EAGER_COMMIT_ALERTS,
  ) {
    this.sendAt = Math.min(sendAt, CREATE_BATCH);
  }

  accept(alerts: FalcoAlert[], receivedAt: Date): Promise<Accepted> {
    if (alerts.length >= CREATE_BATCH) return acceptAlerts(alerts, receivedAt, this.intake);
    if (this.pendingAlerts + alerts.length > CREATE_BATCH) this.commit();
    return new Promise<Accepted>((resolve, reject) => {
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.commit();
        });
      }
      this.pending.push({ batch: { alerts, receivedAt }, resolve, reject });
      this.pendingAlerts += alerts.length;
      if (this.pendingAlerts >= this.sendAt) this.commit();
    });
  }

  private commit(): void {
    const turn = this.pending;
    if (turn.length === 0) return; // already sent, when it filled up
    this.pending = [];
    this.pendingAlerts = 0;
    acceptBatches(
      turn.map((p) => p.batch),
      this.intake,
    ).then(
      (results) => turn.forEach((p, i) => p.resolve(results[i]!)),
      (error: unknown) => turn.forEach((p) => p.reject(error)),
    );
  }
}
