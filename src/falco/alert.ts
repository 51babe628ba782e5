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

/**
 * Fields that older plugin versions sent under another name: gcpaudit before its named fields
 * carried the same resource labels as `json.value[...]` (a real 2023 alert has
 * `json.value[/resource/labels/bucket_name]` where today's has `gcp.storage.bucket`).
 */
export const FIELD_EQUIVALENTS: Record<string, string[]> = {
  "gcp.projectId": ["json.value[/resource/labels/project_id]"],
  "gcp.storage.bucket": ["json.value[/resource/labels/bucket_name]"],
  "gcp.cloudsql.databaseId": ["json.value[/resource/labels/database_id]"],
  "gcp.cloudfunctions.function": ["json.value[/resource/labels/function_name]"],
};

/** An output field's value, or that of an older name for it (FIELD_EQUIVALENTS); undefined when absent. */
export function fieldValue(
  alert: Pick<FalcoAlert, "outputFields">,
  field: string,
): Exclude<FieldValue, null> | undefined {
  for (const name of [field, ...(FIELD_EQUIVALENTS[field] ?? [])]) {
    const v = alert.outputFields[name];
    if (!isAbsent(v)) return v;
  }
  return undefined;
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
