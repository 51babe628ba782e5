/**
 * One BullMQ queue per Slack channel, so that each channel is paced on its own (Slack allows about
 * one message per second per channel) and a 429 in one channel does not hold up the others.
 */
export function deliveryQueueName(channel: string): string {
  return `deliveries-${channel}`;
}

/** The queue used in preview mode, when there is no Slack to post to. */
export const PREVIEW_CHANNEL = "preview";

/** Post an alert's (or its group's) first message. */
export const POST_JOB = "post";
/** Bring a group's message up to date with its occurrences. */
export const UPDATE_JOB = "update";

/** Post a fleet roll-up's message (job id: `rollup-<roll-up id>`). */
export const ROLLUP_POST_JOB = "rollup-post";
/** Bring a fleet roll-up's message up to date with its members. */
export const ROLLUP_UPDATE_JOB = "rollup-update";

export interface DeliverJobData {
  /** The alert to post, or for an update, the first alert of the group; for roll-up jobs, the roll-up's id. */
  uuid: string;
}

/**
 * BullMQ's limiter window for SLACK_MAX_POSTS_PER_SECOND, a tenth longer than a second: the limiter
 * starts jobs a window apart, but each post reaches Slack after a varying few milliseconds of
 * enrichment and rendering, so two posts a bare second apart often arrived less than a second apart
 * and the second got a 429 (and the channel a Retry-After pause of a second) — about one post in
 * three in `npm run bench:storm`.
 */
export const LIMITER_WINDOW_MS = 1100;

/**
 * BullMQ's key prefix. With Redis Cluster, set REDIS_KEY_PREFIX to a `{hashtag}` so that every key
 * of the queue lands in one slot, as BullMQ requires.
 */
export function queuePrefix(keyPrefix: string): string {
  return `${keyPrefix}:q`;
}
