import type { Priority } from "./priority.js";

/** A value of Falco's `output_fields`: bigint keeps integers that a double would round. */
export type FieldValue = string | number | bigint | boolean | null;

/** One Falco alert after validation and normalisation, before anything is stored. */
export interface FalcoAlert {
  uuid: string;
  /** true when the sender gave no uuid (Falco's own http_output) and one was generated. */
  uuidGenerated: boolean;
  rule: string;
  priority: Priority;
  source: string;
  hostname: string | null;
  /** RFC 3339 as Falco wrote it (nanoseconds kept), or derived when Falco sent none. */
  time: string;
  timeDerivedFrom: "alert" | "evt.time" | "received";
  output: string;
  outputFields: Record<string, FieldValue>;
  tags: string[];
  /** What was changed to accept a payload Falco emitted as invalid JSON. */
  repairs: string[];
}
