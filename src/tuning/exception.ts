import { isIP } from "node:net";
import { type FalcoAlert, fieldText, fieldValue } from "../falco/alert.js";
import { falcoStringLiteral } from "../enrich/falco-literal.js";
import type { KnowledgeEntry } from "../enrich/knowledge.js";
import { placeholdersIn } from "../enrich/placeholders.js";

/**
 * A Falco exception built from an alert (https://falco.org/docs/rules/exceptions/): for one rule, a
 * name, its fields, one comparison operator per field, and one tuple of values, a list for `in`.
 * Pure: what may be offered, what is valid, and what it matches.
 */

/** The operators Tune offers; `in` takes a list. */
export const COMPS = ["=", "in", "startswith"] as const;
export type Comp = (typeof COMPS)[number];

/** One field's comparison: a value, or a list of values for `in`. */
export type ExceptionValue = string | string[];

export interface TuningException {
  id: string;
  rule: string;
  name: string;
  fields: string[];
  comps: Comp[];
  /** One tuple: values[i] goes with fields[i] and comps[i]. */
  values: ExceptionValue[];
  /** The alert it was built from, whose thread logs its saving and withdrawal. */
  alertUuid: string;
  createdBy: string;
  createdAt: string;
}

/**
 * Fields that the process itself chooses, so an attacker's process can take the value a benign one
 * has: its name and its parent's (comm, set with prctl or by naming the binary), argv[0]
 * (`proc.exe`), command lines and arguments, the environment, the working directory, and the same
 * of its ancestors. An exception keyed on them hides the attacker who imitates them. Never offered,
 * even when a knowledge entry's snippet uses them as an extra narrowing: in an editable form, one
 * unticked box turns a narrowing into the whole exception.
 */
const CHOSEN_BY_PROCESS =
  /^(proc\.(a|p)?(name|exe|cmdline|args|env|cwd)|proc\.(sname|vpgid\.name|vpgid\.exe)|thread\..*)$/;

/**
 * Fields offered when the alert carries them, besides the knowledge entry's own exception fields:
 * where the event happened and on what, as the kernel, the container runtime or the orchestrator
 * reports it — the executable's path (the file execve opened, not a name the process gives
 * itself), the user ids, the container and its image, the Kubernetes namespace and pod, the file
 * or address touched — and for Kubernetes audit events, who the API server authenticated.
 */
export const STABLE_FIELDS = [
  "proc.exepath",
  "proc.pexepath",
  "user.name",
  "user.uid",
  "user.loginuid",
  "user.loginname",
  "group.name",
  "container.id",
  "container.name",
  "container.image.repository",
  "container.image.tag",
  "k8s.ns.name",
  "k8s.pod.name",
  "fd.name",
  "fd.directory",
  "fd.filename",
  "fd.sip",
  "fd.sport",
  "ka.user.name",
  "ka.target.namespace",
  "ka.target.resource",
  "ka.verb",
] as const;

/** Fields whose values Falco compares as numbers. */
const NUMERIC_FIELDS = new Set([
  "user.uid",
  "user.loginuid",
  "group.gid",
  "fd.sport",
  "fd.dport",
  "fd.cport",
  "fd.lport",
  "fd.rport",
  "ka.response.code",
  "evt.arg.uid",
]);
/** Fields whose values Falco compares as IP addresses. */
const IP_FIELDS = new Set(["fd.sip", "fd.cip", "fd.dip", "fd.lip", "fd.rip"]);

/** A plain field name of Falco's syntax, without an argument (`proc.aname[2]` is never offered). */
const FIELD_NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/i;

/** A plain_text_input carries at most this many characters: a longer value is not offered. */
export const MAX_INPUT_CHARS = 3000;
/** The most fields one modal offers (each is three inputs; a modal holds 100 blocks). */
export const MAX_OFFERED_FIELDS = 12;

export type FieldKind = "string" | "number" | "ip";

export function fieldKind(field: string): FieldKind {
  if (NUMERIC_FIELDS.has(field)) return "number";
  if (IP_FIELDS.has(field)) return "ip";
  return "string";
}

/** The operators that make sense for a field: `startswith` only for text. */
export function compsFor(field: string): Comp[] {
  return fieldKind(field) === "string" ? [...COMPS] : ["=", "in"];
}

export interface OfferedField {
  field: string;
  /** The alert's value, as the input's initial value. */
  value: string;
  /** The knowledge entry names it as an exception field: ticked at first. */
  suggested: boolean;
}

export function isOfferable(field: string): boolean {
  return FIELD_NAME.test(field) && !CHOSEN_BY_PROCESS.test(field);
}

/** The entry's exception fields (its tuning snippet's placeholders) that may be offered. */
export function entryExceptionFields(entry: KnowledgeEntry | null | undefined): string[] {
  if (!entry?.tuning) return [];
  return [...new Set(placeholdersIn(entry.tuning.snippet))].filter(isOfferable);
}

/**
 * The fields the Tune modal offers for this alert: the knowledge entry's exception fields, then the
 * alert's stable fields, each only when the alert carries a value an input can hold.
 */
export function offeredFields(alert: FalcoAlert, entry: KnowledgeEntry | null | undefined): OfferedField[] {
  const suggested = entryExceptionFields(entry);
  const out: OfferedField[] = [];
  for (const field of [...suggested, ...STABLE_FIELDS]) {
    if (out.length >= MAX_OFFERED_FIELDS) break;
    if (out.some((o) => o.field === field) || !isOfferable(field)) continue;
    const raw = alert.outputFields[field];
    if (raw === undefined) continue;
    const value = fieldValue(alert, field);
    if (value === undefined || Array.isArray(value)) continue;
    const text = fieldText(value);
    if (text.length > MAX_INPUT_CHARS) continue;
    out.push({ field, value: text, suggested: suggested.includes(field) });
  }
  return out;
}

/** One row of the modal as the person left it. */
export interface DraftRow {
  field: string;
  include: boolean;
  comp: string;
  /** As typed: for `in`, values separated by commas. */
  value: string;
}

export interface DraftInput {
  rule: string;
  name: string;
  rows: DraftRow[];
}

/** What is wrong with the person's input, by where it was typed: a row's index, or the name. */
export interface DraftProblems {
  name?: string;
  rows: Record<number, string>;
  /** Not tied to one input (nothing ticked). */
  general?: string;
}

/** Falco exception names: a word, as rules files write them (they are YAML keys in the loader). */
export const EXCEPTION_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** An `in` list as typed: items split on commas, trimmed, empty ones dropped. */
export function listItems(typed: string): string[] {
  return typed
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== "");
}

/** Why one value cannot be compared with this field, or null. */
function valueProblem(field: string, value: string): string | null {
  if (value === "") return "give a value";
  const kind = fieldKind(field);
  if (kind === "number" && !/^-?\d{1,20}$/.test(value))
    return `${field} is a number: "${value.slice(0, 40)}" is not one`;
  if (kind === "ip" && isIP(value) === 0)
    return `${field} is an IP address: "${value.slice(0, 40)}" is not one`;
  const literal = falcoStringLiteral(value);
  if ("withheld" in literal) return `this value cannot be one Falco string literal: ${literal.withheld}`;
  return null;
}

/**
 * The exception the modal describes, or what is wrong with it (each problem tied to the input it is
 * about). Every value must be one Falco string literal (see falco-literal.ts), of the field's type.
 */
export function buildException(
  input: DraftInput,
  existingNames: readonly string[],
  meta: Pick<TuningException, "id" | "alertUuid" | "createdBy" | "createdAt">,
): { exception: TuningException } | { problems: DraftProblems } {
  const problems: DraftProblems = { rows: {} };
  const name = input.name.trim();
  if (!EXCEPTION_NAME.test(name))
    problems.name =
      "Use a letter, then letters, digits or underscores (at most 64): Falco exception names are words.";
  else if (existingNames.includes(name))
    problems.name = `This rule already has a saved exception named ${name}: choose another name.`;
  const fields: string[] = [];
  const comps: Comp[] = [];
  const values: ExceptionValue[] = [];
  input.rows.forEach((row, i) => {
    if (!row.include) return;
    if (!isOfferable(row.field)) {
      problems.rows[i] = `${row.field} is chosen by the process itself and cannot key an exception.`;
      return;
    }
    const comp = COMPS.find((c) => c === row.comp);
    if (!comp || !compsFor(row.field).includes(comp)) {
      problems.rows[i] =
        `${row.field} cannot be compared with ${row.comp || "no operator"}: choose ${compsFor(row.field).join(", ")}.`;
      return;
    }
    const typed = comp === "in" ? listItems(row.value) : [row.value];
    if (typed.length === 0) {
      problems.rows[i] = `${row.field}: give at least one value.`;
      return;
    }
    for (const v of typed) {
      const problem = valueProblem(row.field, v);
      if (problem) {
        problems.rows[i] = `${row.field}: ${problem}.`;
        return;
      }
    }
    fields.push(row.field);
    comps.push(comp);
    values.push(comp === "in" ? typed : typed[0]!);
  });
  if (fields.length === 0 && Object.keys(problems.rows).length === 0)
    problems.general =
      "Tick at least one field: an exception without fields would hide every alert of the rule.";
  if (problems.name || problems.general || Object.keys(problems.rows).length > 0) return { problems };
  return { exception: { ...meta, rule: input.rule, name, fields, comps, values } };
}

/** Whether one field's comparison holds for the alert, as Falco would evaluate it on the event. */
function comparisonHolds(alert: FalcoAlert, field: string, comp: Comp, expected: ExceptionValue): boolean {
  const value = fieldValue(alert, field);
  if (value === undefined || Array.isArray(value)) return false;
  const actual = fieldText(value);
  if (comp === "in") return (Array.isArray(expected) ? expected : [expected]).includes(actual);
  const single = Array.isArray(expected) ? (expected[0] ?? "") : expected;
  if (comp === "startswith") return actual.startsWith(single);
  return actual === single;
}

/**
 * Whether the exception hides this alert: same rule, and every field's comparison holds. Judged on
 * the alert's output fields; a field the alert does not carry does not match (the alert is posted).
 */
export function exceptionMatches(exception: TuningException, alert: FalcoAlert): boolean {
  if (exception.rule !== alert.rule) return false;
  return exception.fields.every((field, i) =>
    comparisonHolds(alert, field, exception.comps[i]!, exception.values[i]!),
  );
}
