import { Document, isMap, isSeq } from "yaml";
import { falcoStringLiteral } from "../enrich/falco-literal.js";
import type { ExceptionValue, TuningException } from "./exception.js";

/**
 * The saved exceptions as one Falco rules file: each rule once, its exceptions appended to the
 * rule's own (`override: {exceptions: append}`, Falco 0.36 or later). Every value is written as a
 * complete Falco string literal (`"…"`) inside a YAML scalar, so that Falco's loader, which pastes
 * values into the condition unescaped and quotes only values with a space, passes it on as exactly
 * one string (see src/enrich/falco-literal.ts).
 */

export const RULES_FILE_HEADER = [
  " Falco exceptions saved in Slack with falco-chatops's Tune button.",
  " Load this file after the rules files that define these rules (falco.yaml rules_files, or the",
  " Falco Helm chart's customRules); each entry appends exceptions to an existing rule.",
].join("\n");

/** A value as the literal written in the file. Values were checked when the exception was saved. */
function literalOf(value: string): string {
  const written = falcoStringLiteral(value);
  if ("withheld" in written) throw new Error(`a saved exception holds a value that is not one literal`);
  return written.literal;
}

function valueOf(value: ExceptionValue): string | string[] {
  return Array.isArray(value) ? value.map(literalOf) : literalOf(value);
}

/** The rules file's YAML text; exceptions of the same rule are listed under one entry, oldest first. */
export function tuningRulesYaml(exceptions: readonly TuningException[]): string {
  const byRule = new Map<string, TuningException[]>();
  const ordered = [...exceptions].sort(
    (a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id),
  );
  for (const ex of ordered) byRule.set(ex.rule, [...(byRule.get(ex.rule) ?? []), ex]);
  const entries = [...byRule.keys()].sort().map((rule) => ({
    rule,
    exceptions: byRule.get(rule)!.map((ex) => ({
      name: ex.name,
      fields: ex.fields,
      comps: ex.comps,
      values: [ex.values.map(valueOf)],
    })),
    override: { exceptions: "append" },
  }));
  const doc = new Document(entries);
  doc.commentBefore = RULES_FILE_HEADER;
  // Flow style for the short lists, as Falco's documentation writes exceptions.
  const items = (node: unknown): unknown[] => (isSeq(node) ? node.items : []);
  for (const entry of items(doc.contents)) {
    if (!isMap(entry)) continue;
    for (const ex of items(entry.get("exceptions", true))) {
      if (!isMap(ex)) continue;
      for (const node of [ex.get("fields", true), ex.get("comps", true), ...items(ex.get("values", true))])
        if (isSeq(node)) node.flow = true;
    }
  }
  return doc.toString({ lineWidth: 0 });
}
