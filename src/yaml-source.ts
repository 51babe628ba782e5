import { LineCounter, parseDocument } from "yaml";
import type { z } from "zod";

/**
 * A YAML file parsed with its positions, so that every problem, whether the YAML's own or a schema's,
 * names the file, line and column a person has to fix.
 */
export type YamlSource =
  { ok: true; value: unknown; where: (path: PropertyKey[]) => string } | { ok: false; problem: string };

export function parseYamlSource(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lineCounter.linePos(e.pos[0]);
    return { ok: false, problem: `${file}:${pos.line}:${pos.col}: ${e.message.split("\n")[0]}` };
  }
  return {
    ok: true,
    value: doc.toJS(),
    where(path) {
      const node = doc.getIn(path as (string | number)[], true) as
        { range?: [number, number, number] } | undefined;
      const label = path.join(".") || "top level";
      if (!node?.range) return `${file} (${label})`;
      const pos = lineCounter.linePos(node.range[0]);
      return `${file}:${pos.line}:${pos.col} (${label})`;
    },
  };
}

/** A schema's complaints about a parsed YAML file, each with its position. */
export function schemaProblems(error: z.ZodError, where: (path: PropertyKey[]) => string): string[] {
  return error.issues.map((issue) => `${where(issue.path)}: ${issue.message}`);
}
