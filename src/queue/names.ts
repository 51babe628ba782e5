/** The BullMQ queue that carries alerts from the web processes to the workers. */
export const DELIVERY_QUEUE = "deliveries";
export const DELIVER_JOB = "deliver";

export interface DeliverJobData {
  uuid: string;
}

/**
 * BullMQ's key prefix. With Redis Cluster, set REDIS_KEY_PREFIX to a `{hashtag}` so that every key
 * of the queue lands in one slot, as BullMQ requires.
 */
export function queuePrefix(keyPrefix: string): string {
  return `${keyPrefix}:q`;
}
