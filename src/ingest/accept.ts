import type { FalcoAlert } from "../falco/alert.js";
import { alertsAccepted } from "../metrics.js";
import type { DeliveryQueues } from "../queue/producer.js";
import { contentKeyOf, groupKeyOf, sampleOf } from "../route/grouping.js";
import { type Routing, routeAlert } from "../route/routes.js";
import type { AlertStore, CreateOptions } from "../store/alert-store.js";

export interface Intake {
  store: AlertStore;
  queues: DeliveryQueues;
  routing: Routing;
  grouping: CreateOptions & { fields: string[] };
}

export interface Accepted {
  /** Alerts not stored again: a uuid already stored, or a re-sent copy of a stored alert. */
  duplicates: string[];
}

/**
 * Stores a batch of alerts and queues what Slack must see: the first alert of each new group gets
 * a post, later ones an update of their group's message. Alerts below MIN_PRIORITY are stored only.
 * Returns only after everything is stored and queued, so a 202 never covers a lost alert.
 */
export async function acceptAlerts(
  alerts: FalcoAlert[],
  receivedAt: Date,
  intake: Intake,
): Promise<Accepted> {
  const items = alerts.map((alert) => {
    const decision = routeAlert(alert, intake.routing);
    return {
      alert,
      channel: decision.channel,
      post: decision.post,
      groupKey: groupKeyOf(alert, intake.grouping.fields),
      sample: sampleOf(alert),
      contentKey: contentKeyOf(alert),
    };
  });
  const outcomes = await intake.store.createMany(items, receivedAt, intake.grouping);
  const posts: { channel: string; uuid: string }[] = [];
  const updates: { channel: string; leader: string }[] = [];
  const duplicates: string[] = [];
  outcomes.forEach((outcome, i) => {
    const item = items[i]!;
    alertsAccepted.inc({
      source: item.alert.source,
      outcome: outcome.kind === "member" ? "grouped" : outcome.kind === "leader" ? "new" : outcome.kind,
    });
    switch (outcome.kind) {
      case "leader":
      case "undelivered":
        if (item.post) posts.push({ channel: item.channel, uuid: item.alert.uuid });
        break;
      case "member":
        if (item.post) updates.push({ channel: item.channel, leader: outcome.leader });
        break;
      case "duplicate":
        duplicates.push(item.alert.uuid);
        break;
      case "copy":
        // The copy is counted as the original. Queue the original again in case an earlier request
        // stored it but failed before queueing it: the job id makes this a no-op otherwise.
        duplicates.push(item.alert.uuid);
        if (item.post) posts.push({ channel: item.channel, uuid: outcome.original });
        break;
    }
  });
  await intake.queues.enqueuePosts(posts);
  await intake.queues.enqueueUpdates(updates);
  return { duplicates };
}
