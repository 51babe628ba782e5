import { type FalcoAlert, fieldText, fieldValue, isAbsent } from "../falco/alert.js";
import { type FalcoLiteral, falcoStringLiteral, yamlScalarOf } from "./falco-literal.js";

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
  if (value === undefined && field === "proc.pid")
    return { missing: "the alert carries no proc.pid (add `%proc.pid` to the rule's output to get it)" };
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

type QuoteState = "none" | "single" | "double";

/** The shell's quoting state just before `index` in `command`. */
export function quoteStateAt(command: string, index: number): QuoteState {
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

/**
 * Where the alert's process ran, as far as the alert tells: on the host, in a container of a known
 * runtime (Kubernetes nodes run containerd or CRI-O, reached with crictl), or in a container whose
 * runtime the alert does not name.
 */
export type ProcessPlace = "host" | "docker" | "cri" | "container" | "unknown";

export function processPlace(alert: FalcoAlert): ProcessPlace {
  const id = fieldValue(alert, "container.id");
  if (id === "host") return "host";
  if (isAbsent(id) || id === "") return "unknown";
  const type = fieldValue(alert, "container.type");
  if (type === "docker") return "docker";
  if (type === "containerd" || type === "cri-o" || type === "cri") return "cri";
  if (!isAbsent(fieldValue(alert, "k8s.pod.name")) || !isAbsent(fieldValue(alert, "k8s.ns.name")))
    return "cri";
  return "container";
}

/**
 * `{{ns.pid}}`: a host PID inside the alert process's namespaces, for `nsenter -t` and `/proc/<pid>/root`.
 * For a container, its init process as the runtime reports it (outlives a short-lived process);
 * otherwise the process itself (Falco's `proc.pid` is the host's PID), or 1 for a host process.
 * Returns a shell fragment to paste unquoted, or why there is none.
 */
export const NAMESPACE_PID = "ns.pid";

function namespacePid(alert: FalcoAlert): Lookup {
  const place = processPlace(alert);
  const id = fieldValue(alert, "container.id");
  const pid = fieldValue(alert, "proc.pid");
  if (place === "cri")
    return {
      value: `$(crictl inspect --output go-template --template '{{.info.pid}}' ${shellQuote(fieldText(id!))})`,
    };
  if (place === "docker")
    return { value: `$(docker inspect --format '{{.State.Pid}}' ${shellQuote(fieldText(id!))})` };
  if (!isAbsent(pid) && /^\d+$/.test(fieldText(pid))) return { value: fieldText(pid) };
  if (place === "host") return { value: "1" };
  if (place === "container")
    return { missing: "the alert carries neither proc.pid nor the container's runtime (container.type)" };
  return { missing: "the alert does not say whether the process ran in a container (container.id)" };
}

/** A shell command filled with the alert's values (see shellQuoteAt); `{{ns.pid}}` as above. */
export function fillCommand(template: string, alert: FalcoAlert): Filled {
  return fillTemplate(template, alert, shellQuoteAt, { [NAMESPACE_PID]: () => namespacePid(alert) });
}

/**
 * A Falco tuning snippet filled with the alert's values. A placeholder that is a YAML list item
 * becomes a YAML scalar holding a Falco string literal; one inside a block `condition:` becomes the
 * literal itself. A value that cannot be one literal withholds the snippet (see falco-literal.ts).
 */
export function fillTuning(template: string, alert: FalcoAlert): Filled & { withheld: string[] } {
  const withheld: string[] = [];
  // In a Falco condition `container.id = host` is how a host process is named: a value, not a gap.
  const lookup = (a: FalcoAlert, field: string): Lookup => {
    const value = fieldValue(a, field);
    if (field.startsWith("container.") && value === "host") return { value };
    const found = lookupField(a, field);
    if ("missing" in found && field.startsWith("container.image") && processPlace(a) === "host")
      return {
        missing: `the process ran on the host, which has no ${field}: key the exception on container.id = "host" and the executable's path instead`,
      };
    return found;
  };
  const filled = fillTemplate(
    template,
    alert,
    (value, at) => {
      const field = template.slice(at.offset, at.offset + at.length).replace(/[{}\s]/g, "");
      const literal: FalcoLiteral = falcoStringLiteral(value);
      if ("withheld" in literal) {
        withheld.push(`the alert's ${field} cannot be written as one Falco string: ${literal.withheld}`);
        return "";
      }
      return tuningPlaceholderContext(template, at.offset) === "condition"
        ? literal.literal
        : yamlScalarOf(literal.literal);
    },
    {},
    lookup,
  );
  if (withheld.length > 0) return { text: null, missing: filled.missing, withheld };
  return { ...filled, withheld };
}

/**
 * How a tuning snippet's placeholder sits in its YAML: a list item (`[a, {{x}}]`, `- {{x}}`), a
 * line of a block `condition:` (`condition: |`), or neither (which the lint refuses).
 */
export function tuningPlaceholderContext(template: string, offset: number): "item" | "condition" | null {
  const lineStart = template.lastIndexOf("\n", offset - 1) + 1;
  const before = template.slice(lineStart, offset);
  const lineEnd = template.indexOf("\n", offset);
  const after = template.slice(offset, lineEnd < 0 ? undefined : lineEnd).replace(PLACEHOLDER_AT_START, "");
  if (/^\s*(-\s+)?(.*\[(.*,)?)?\s*$/.test(before) && /^\s*(,|\]|$)/.test(after)) return "item";
  const lines = template.slice(0, lineStart).split("\n");
  const indent = (l: string) => l.length - l.trimStart().length;
  const own = indent(before);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (line.trim() === "" || indent(line) >= own) continue;
    return /^\s*condition:\s*[|>][-+]?\s*$/.test(line) ? "condition" : null;
  }
  return null;
}
const PLACEHOLDER_AT_START = /^\{\{[^}]*\}\}/;

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
  /** Placeholders that stand for a ready-made fragment, inserted as it is. */
  fragments: Record<string, () => Lookup> = {},
  lookup: (alert: FalcoAlert, field: string) => Lookup = lookupField,
): Filled {
  const missing: string[] = [];
  const text = template.replace(PLACEHOLDER, (whole: string, field: string, offset: number) => {
    const fragment = fragments[field];
    if (fragment) {
      const made = fragment();
      if ("missing" in made) {
        if (!missing.includes(made.missing)) missing.push(made.missing);
        return "";
      }
      return made.value;
    }
    const found = lookup(alert, field);
    if ("missing" in found) {
      if (!missing.includes(found.missing)) missing.push(found.missing);
      return "";
    }
    return quote(found.value, { template, offset, length: whole.length });
  });
  return missing.length > 0 ? { text: null, missing } : { text, missing };
}
