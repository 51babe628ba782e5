import { parse as parseYaml } from "yaml";
import { type KnowledgeBase, relatedByTechnique, techniquesIn } from "./knowledge.js";

export interface RuleCoverage {
  rule: string;
  file: string;
  match: "rule" | "tag" | "fallback";
  /** Which entry answers, and why. */
  reason: string;
}

/**
 * Which rules of a Falco rules file have a knowledge-base entry, which borrow one by ATT&CK
 * technique, and which fall back to the generic explanation. Items that only change an existing
 * rule (`override:`, `append: true`) are not rules of their own and are skipped.
 */
export function ruleCoverage(yamlText: string, file: string, kb: KnowledgeBase): RuleCoverage[] {
  const doc = parseYaml(yamlText) as unknown;
  if (!Array.isArray(doc)) throw new Error(`${file}: not a Falco rules file (expected a YAML list)`);
  const out: RuleCoverage[] = [];
  for (const item of doc as Record<string, unknown>[]) {
    if (!item || typeof item !== "object" || typeof item.rule !== "string") continue;
    if (item.override !== undefined || item.append === true) continue;
    const rule = item.rule;
    const entry = kb.byRule.get(rule);
    if (entry) {
      out.push({ rule, file, match: "rule", reason: `entry ${entry.file}` });
      continue;
    }
    const tags = Array.isArray(item.tags) ? item.tags.filter((t): t is string => typeof t === "string") : [];
    const techniques = techniquesIn(tags);
    const related = relatedByTechnique(kb, tags);
    if (related) {
      out.push({
        rule,
        file,
        match: "tag",
        reason: `no entry; borrows ${related.entry.file} (shares ${related.technique})`,
      });
    } else {
      out.push({
        rule,
        file,
        match: "fallback",
        reason: techniques.length
          ? `no entry, and no entry covers ${techniques.join(", ")}`
          : "no entry, and the rule has no ATT&CK technique tag",
      });
    }
  }
  return out;
}
