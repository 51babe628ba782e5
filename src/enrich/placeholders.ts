import { type FalcoAlert, fieldText, fieldValue, isAbsent } from "../falco/alert.js";

/** `{{k8s.pod.name}}`, `{{proc.aname[2]}}`, `{{hostname}}` */
export const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*(?:\[[^\]\s{}]*\])?)\s*\}\}/g;

export function placeholdersIn(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

export { isAbsent };

export type Lookup = { value: string } | { missing: string };

/** A field's value as text, or why it cannot be used. */
export function lookupField(alert: FalcoAlert, field: string): Lookup {
  if (field === "hostname") {
    return alert.hostname ? { value: alert.hostname } : { missing: "the alert names no host" };
  }
  const value = fieldValue(alert, field);
  if (value === undefined) return { missing: `the alert carries no ${field}` };
  // Falco reports host processes with container.id "host": there is no container to act on.
  if ((field === "container.id" || field === "container.name") && value === "host") {
    return { missing: "the process ran on the host, not in a container" };
  }
  return { value: fieldText(value) };
}

const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes a value so that a shell reads it as one literal word, whatever it contains. */
export function shellQuote(value: string): string {
  if (SHELL_SAFE.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** A YAML double-quoted scalar (JSON strings are valid YAML). */
export function yamlQuote(value: string): string {
  return JSON.stringify(value);
}

type QuoteState = "none" | "single" | "double";

/** The shell's quoting state just before `index` in `command`. */
function quoteStateAt(command: string, index: number): QuoteState {
  let state: QuoteState = "none";
  for (let i = 0; i < index; i++) {
    const ch = command[i]!;
    if (state === "single") {
      if (ch === "'") state = "none";
    } else if (ch === "\\") i++;
    else if (state === "double") {
      if (ch === '"') state = "none";
    } else if (ch === "'") state = "single";
    else if (ch === '"') state = "double";
  }
  return state;
}

/**
 * Quotes a value for its place in a shell command, so that it stays one literal piece of text
 * wherever the template put it: bare (`--user {{x}}`), inside single quotes (`'name="{{x}}"'`) or
 * inside double quotes. A placeholder between double quotes inside a single-quoted word is a string
 * literal of the tool's own query language (gcloud logging filters, Okta's SCIM filters), so `"` and
 * `\` in the value are backslash-escaped for that language as well.
 */
export function shellQuoteAt(value: string, at: PlaceholderAt): string {
  const state = quoteStateAt(at.template, at.offset);
  if (state === "none") return shellQuote(value);
  if (state === "double") return value.replace(/[\\"$`]/g, "\\$&");
  const innerLiteral = at.template[at.offset - 1] === '"' && at.template[at.offset + at.length] === '"';
  const literal = innerLiteral ? value.replace(/[\\"]/g, "\\$&") : value;
  return literal.replaceAll("'", `'\\''`);
}

/** A shell command filled with the alert's values (see shellQuoteAt). */
export function fillCommand(template: string, alert: FalcoAlert): Filled {
  return fillTemplate(template, alert, shellQuoteAt);
}

/** Where a placeholder sits in its template, for quoting that depends on the surroundings. */
export interface PlaceholderAt {
  template: string;
  offset: number;
  length: number;
}

export interface Filled {
  /** The template with every placeholder replaced, or null when a field is missing. */
  text: string | null;
  /** Why it could not be filled, one reason per missing field. */
  missing: string[];
}

export function fillTemplate(
  template: string,
  alert: FalcoAlert,
  quote: (value: string, at: PlaceholderAt) => string,
): Filled {
  const missing: string[] = [];
  const text = template.replace(PLACEHOLDER, (whole: string, field: string, offset: number) => {
    const found = lookupField(alert, field);
    if ("missing" in found) {
      if (!missing.includes(found.missing)) missing.push(found.missing);
      return "";
    }
    return quote(found.value, { template, offset, length: whole.length });
  });
  return missing.length > 0 ? { text: null, missing } : { text, missing };
}
