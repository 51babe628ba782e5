import type { FalcoAlert } from "../falco/alert.js";

/** Why an alert's message is held back: a silence or a saved Falco exception matched it. */
export interface Hold {
  status: "silenced" | "tuned";
  /** The id of the silence or exception that matched. */
  by: string;
}

/**
 * Decides at ingest whether an alert is stored and counted but not posted. It runs for every
 * alert, inside the request, so it answers from memory (kept in step with Redis by its owner).
 */
export interface DeliveryHold {
  holdFor(alert: FalcoAlert, channel: string): Hold | null;
}

/** The first hold that applies, in the order given. */
export function holdOf(holds: readonly DeliveryHold[], alert: FalcoAlert, channel: string): Hold | null {
  for (const h of holds) {
    const hold = h.holdFor(alert, channel);
    if (hold) return hold;
  }
  return null;
}
