import type { FilledStep } from "../enrich/enrich.js";
import type { IncidentReport } from "./report.js";

/*
 * Alert values are attacker-controlled. In Markdown they only ever appear inside code spans or
 * fenced code blocks, where renderers interpret neither HTML, links, autolinks nor emphasis. The
 * knowledge base's prose is trusted, but `<` and `&` outside its code spans are still escaped so that
 * `<namespace>` reads as text rather than as an HTML tag.
 */

/** A code span that no backtick inside can end early; newlines become spaces. */
export function mdCode(value: string): string {
  const flat = value.replace(/[\r\n]+/g, " ");
  const longest = Math.max(0, ...[...flat.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  const pad = flat.startsWith("`") || flat.endsWith("`") || flat === "" ? " " : "";
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** A fenced code block whose fence is longer than any backtick run inside. */
export function mdFence(value: string, info = ""): string {
  const longest = Math.max(2, ...[...value.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  return `${fence}${info}\n${value}\n${fence}`;
}

/** Plain text with every Markdown and HTML special character neutralised (for headings and labels). */
export function mdText(value: string): string {
  return value
    .replace(/[\r\n]+/g, " ")
    .replace(/[\\`*_{}[\]()#+\-.!|~>]/g, "\\$&")
    .replace(/&(?=#?\w+;)/g, "&amp;")
    .replaceAll("<", "&lt;");
}

/** `<` always, `&` only where it would start a character reference: "ATT&CK" stays readable. */
function escapeAngle(text: string): string {
  return text.replace(/&(?=#?\w+;)/g, "&amp;").replaceAll("<", "&lt;");
}

/** Knowledge-base prose: its `code` spans kept, `<` and `&` outside them escaped. */
export function mdProse(value: string): string {
  return value
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : escapeAngle(part)))
    .join("");
}

function steps(list: FilledStep[]): string[] {
  return list.flatMap((s, i) => {
    const out = [`${i + 1}. **${mdProse(s.title)}**`];
    const indent = (text: string) =>
      text
        .split("\n")
        .map((l) => (l ? `   ${l}` : l))
        .join("\n");
    if (s.command) out.push("", indent(mdFence(s.command, "sh")));
    else if (s.missing.length > 0) out.push("", indent(`_Not filled in: ${mdProse(s.missing.join("; "))}._`));
    if (s.detail) out.push("", indent(mdProse(s.detail)));
    if (s.snippet) out.push("", indent(mdFence(s.snippet, "yaml")));
    if (s.blastRadius) out.push("", indent(`_Blast radius:_ ${mdProse(s.blastRadius)}`));
    out.push("");
    return out;
  });
}

/** The report as CommonMark (GitHub-flavoured Markdown renders it the same way). */
export function reportMarkdown(r: IncidentReport): string {
  const out: string[] = [`# ${mdText(r.title)}`, "", "## Summary", "", mdProse(r.summary.text), ""];
  out.push(mdProse(r.summary.why), "");
  if (r.summary.verdict) out.push(`**Known benign pattern:** ${mdProse(r.summary.verdict)}`, "");
  if (r.summary.output) out.push("Falco's output:", "", mdFence(r.summary.output), "");
  if (r.partialVisibility) out.push(`> **Warning:** ${mdProse(r.partialVisibility)}`, "");

  if (r.outcome) {
    out.push("## Outcome", "", `- **Verdict:** ${mdText(r.outcome.label)}`);
    out.push(`- **Resolved by:** ${mdCode(r.outcome.by)} at ${mdCode(r.outcome.at)}`, "");
    if (r.outcome.note) out.push("Their note:", "", mdFence(r.outcome.note), "");
  }

  out.push("## Event details", "");
  for (const d of r.details) out.push(`- **${d.label}:** ${mdCode(d.value)}`);
  out.push("");

  if (r.breakdown.length > 0) {
    out.push("## Event breakdown", "");
    for (const f of r.breakdown) {
      const head = `- ${mdCode(f.field)} = ${mdCode(f.value)}`;
      const meaning = f.meaning ? ` — ${f.label ? `${mdProse(f.label)}: ` : ""}${mdProse(f.meaning)}` : "";
      out.push(head + meaning);
      for (const reading of f.readings) out.push(`  - **Reading:** ${mdProse(reading)}`);
    }
    out.push("");
  }

  if (r.observations.length > 0) {
    out.push("## Observations", "");
    for (const o of r.observations)
      out.push(`- ${o.parts.map((p) => (typeof p === "string" ? mdProse(p) : mdCode(p.value))).join("")}`);
    out.push("");
  }

  if (r.mitre.length > 0) {
    out.push("## MITRE ATT&CK", "");
    for (const m of r.mitre)
      out.push(
        `- [${m.id}](${m.url})${m.name ? ` ${mdProse(m.name)}` : ""}${m.tactics.length ? ` — tactic: ${m.tactics.join(", ")}` : ""}`,
      );
    out.push("");
  }

  for (const [heading, list] of [
    ["Investigation (read-only)", r.investigate],
    ["Containment", r.contain],
    ["Prevention", r.prevent],
  ] as const) {
    if (list.length === 0) continue;
    out.push(`## ${heading}`, "", ...steps(list));
  }

  if (r.falsePositives.length > 0 || r.tuning) {
    out.push("## False positives and tuning", "");
    for (const fp of r.falsePositives) out.push(`- ${mdProse(fp)}`);
    if (r.falsePositives.length > 0) out.push("");
    if (r.tuning) {
      out.push(mdProse(r.tuning.description), "");
      if (r.tuning.snippet) out.push(mdFence(r.tuning.snippet, "yaml"), "");
      else out.push(`_Tuning snippet not filled in: ${mdProse(r.tuning.missing.join("; "))}._`, "");
    }
  }

  out.push("## Next steps", "");
  r.nextSteps.forEach((s, i) => out.push(`${i + 1}. ${mdProse(s)}`));
  out.push("");

  if (r.references.length > 0) {
    out.push("## References", "");
    for (const ref of r.references) out.push(`- [${mdText(ref.title)}](${ref.url})`);
    out.push("");
  }
  return out.join("\n");
}
