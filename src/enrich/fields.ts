import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parseYamlSource, schemaProblems } from "../yaml-source.js";
import { z } from "zod";
import { type FalcoAlert, type FieldValue, fieldText, isAbsent } from "../falco/alert.js";

const text = z.string().trim().min(1);
const values = z.array(z.union([z.string(), z.number()]).transform(String)).min(1);

/**
 * How to read a notable value of a field. Exactly one test: `equals`, `not_equals`, `starts_with` or
 * `contains` (against the value as text; a list field is tested item by item).
 */
const ReadingSchema = z
  .strictObject({
    equals: values.optional(),
    not_equals: values.optional(),
    starts_with: values.optional(),
    contains: values.optional(),
    reading: text,
  })
  .refine(
    (r) => [r.equals, r.not_equals, r.starts_with, r.contains].filter((t) => t !== undefined).length === 1,
    { error: "give exactly one of equals, not_equals, starts_with or contains" },
  );
export type FieldReading = z.infer<typeof ReadingSchema>;

export const FieldEntrySchema = z.strictObject({
  /** A short human name ("Process name"). */
  label: text,
  /** What the field is, in one or two sentences. */
  meaning: text,
  readings: z.array(ReadingSchema).default([]),
});
export type FieldEntry = z.infer<typeof FieldEntrySchema>;

const FieldFileSchema = z.strictObject({ fields: z.record(text, FieldEntrySchema) });

/** Falco field name → what it means and how to read notable values. */
export type FieldDictionary = Map<string, FieldEntry>;

function listYaml(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return listYaml(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

/**
 * Reads every YAML file under `dir` (the knowledge base's `fields/` folder). Problems come back with
 * file, line and column; a field described twice is a problem.
 */
export function loadFieldDictionary(
  dir: string,
  root = dir,
): { fields: FieldDictionary; problems: string[] } {
  const fields: FieldDictionary = new Map();
  const problems: string[] = [];
  for (const path of listYaml(dir)) {
    const file = relative(root, path);
    const source = parseYamlSource(readFileSync(path, "utf8"), file);
    if (!source.ok) {
      problems.push(source.problem);
      continue;
    }
    const parsed = FieldFileSchema.safeParse(source.value);
    if (!parsed.success) {
      problems.push(...schemaProblems(parsed.error, source.where));
      continue;
    }
    for (const [name, entry] of Object.entries(parsed.data.fields)) {
      if (fields.has(name)) problems.push(`${file}: field "${name}" is already described in another file`);
      else fields.set(name, entry);
    }
  }
  return { fields, problems };
}

/** `proc.aname[3]` is described under `proc.aname`; `ka.uri.param[command]` under `ka.uri.param`. */
export function dictionaryKey(field: string, dictionary: FieldDictionary): string | null {
  if (dictionary.has(field)) return field;
  const base = field.replace(/\[[^\]]*\]$/, "");
  return dictionary.has(base) ? base : null;
}

function matches(reading: FieldReading, value: string): boolean {
  if (reading.equals) return reading.equals.includes(value);
  if (reading.not_equals) return !reading.not_equals.includes(value);
  if (reading.starts_with) return reading.starts_with.some((p) => value.startsWith(p));
  if (reading.contains) return reading.contains.some((p) => value.includes(p));
  return false;
}

export interface FieldExplanation {
  field: string;
  /** The value as text; null when Falco could not read it (null, empty, `<NA>`). */
  value: string | null;
  label: string | null;
  meaning: string | null;
  /** What this particular value says: every dictionary reading that applies to it. */
  readings: string[];
}

/** What one field of one alert means and, where its value is notable, what that value says. */
export function explainField(
  field: string,
  value: FieldValue | undefined,
  dictionary: FieldDictionary,
): FieldExplanation {
  const key = dictionaryKey(field, dictionary);
  const entry = key ? dictionary.get(key) : undefined;
  const absent = isAbsent(value);
  const textValue = absent ? null : fieldText(value);
  const items = absent
    ? []
    : Array.isArray(value)
      ? value.filter((v) => !isAbsent(v)).map(String)
      : [textValue!];
  const readings =
    entry && textValue !== null
      ? [...new Set(entry.readings.filter((r) => items.some((v) => matches(r, v))).map((r) => r.reading))]
      : [];
  return { field, value: textValue, label: entry?.label ?? null, meaning: entry?.meaning ?? null, readings };
}

/** Every output field of the alert, explained, in the order Falco sent them. */
export function explainAlertFields(alert: FalcoAlert, dictionary: FieldDictionary): FieldExplanation[] {
  return Object.entries(alert.outputFields).map(([field, value]) => explainField(field, value, dictionary));
}
