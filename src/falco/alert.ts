import type { Priority } from "./priority.js";

/** One value of Falco's `output_fields`: bigint keeps integers that a double would round. */
export type FieldScalar = string | number | bigint | boolean | null;

/**
 * A value of Falco's `output_fields`. List fields of plugins (e.g. k8saudit's
 * `ka.req.pod.containers.image`) arrive as JSON arrays.
 */
export type FieldValue = FieldScalar | FieldScalar[];

/** Falco's ways of saying "no value": null, empty, `<NA>`, an empty list. */
export function isAbsent(value: FieldValue | undefined): value is null | undefined | "" | "<NA>" | [] {
  return (
    value === null ||
    value === undefined ||
    value === "" ||
    value === "<NA>" ||
    (Array.isArray(value) && value.every((v) => isAbsent(v)))
  );
}

/** A field's value as one line of text; a list as its present items joined with ", ". */
export function fieldText(value: FieldValue): string {
  if (Array.isArray(value))
    return value
      .filter((v) => !isAbsent(v))
      .map((v) => String(v))
      .join(", ");
  return String(value);
}

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
