import { type Priority, PRIORITIES, priorityRank } from "../falco/priority.js";

/**
 * The order in which one channel's delivery jobs run, as BullMQ job priorities (the lowest number
 * runs first; equal numbers run in the order they were added). A channel takes about one message a
 * second, so in a storm this order decides what people see first:
 *
 *   1-3  first messages of Emergency, Alert and Critical alerts, most severe first
 *   4    counter updates of groups whose first alert is Critical or higher
 *   5-9  first messages of Error, Warning, Notice, Informational and Debug alerts
 *   10   counter updates of every other group
 *
 * A new Critical alert is never queued behind anything else in its channel but a more severe first
 * message. The counter of a Critical incident is less urgent than a new Critical alert, but more
 * urgent than a new Notice: it says the incident is still going on (or spreading), and BullMQ's
 * debounce (one update per group per GROUP_UPDATE_SECONDS) bounds how much of the channel it takes.
 * Jobs handed back after a worker crashed go to BullMQ's plain wait list, which runs before every
 * prioritized job: they had already had their turn.
 */
const URGENT_BELOW_RANK = priorityRank("Critical");

/** The BullMQ priority of an alert's first message. */
export function postPriority(priority: Priority): number {
  const rank = priorityRank(priority);
  return rank <= URGENT_BELOW_RANK ? rank + 1 : rank + 2;
}

/** The BullMQ priority of a group's counter update; `priority` is the group's (its first alert's). */
export function updatePriority(priority: Priority): number {
  return priorityRank(priority) <= URGENT_BELOW_RANK ? URGENT_BELOW_RANK + 2 : PRIORITIES.length + 2;
}

/** Every BullMQ priority a first message can have (for counting a channel's waiting posts). */
export const POST_PRIORITIES: readonly number[] = [...new Set(PRIORITIES.map(postPriority))];
