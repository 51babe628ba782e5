import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { ruleCoverage } from "../../src/enrich/coverage.js";
import { enrich } from "../../src/enrich/enrich.js";
import { parseAlertBody } from "../../src/falco/body.js";
import { shippedKnowledgeBase } from "../helpers/knowledge.js";
import { HAVE_SHARED } from "../helpers/shared-corpus.js";
import { corpusRules } from "../helpers/synthetic-alert.js";

const kb = shippedKnowledgeBase();
const ROOT = resolve(import.meta.dirname, "../..");
const parsed = parseAlertBody(readFileSync(join(ROOT, "examples/terminal-shell.json"), "utf8"), "json");
if (!parsed.ok) throw new Error("examples/terminal-shell.json does not parse");
const alert = parsed.alerts[0]!;

describe("kb coverage", () => {
  it("tells entries, borrowed guidance and fallbacks apart, skipping overrides", () => {
    const rows = ruleCoverage(
      stringify([
        { macro: "m", condition: "x" },
        { rule: "Terminal shell in container", tags: ["T1059"] },
        { rule: "My shell rule", tags: ["T1059", "container"] },
        { rule: "My odd rule", tags: ["T9999"] },
        { rule: "Untagged", desc: "d" },
        { rule: "Terminal shell in container", exceptions: [], override: { exceptions: "append" } },
      ]),
      "mine.yaml",
      kb,
    );
    expect(rows.map((r) => [r.rule, r.match])).toEqual([
      ["Terminal shell in container", "rule"],
      ["My shell rule", "tag"],
      ["My odd rule", "fallback"],
      ["Untagged", "fallback"],
    ]);
    expect(rows[1]!.reason).toContain("shares T1059");
    expect(rows[3]!.reason).toBe("no entry, and the rule has no ATT&CK technique tag");
    expect(() => ruleCoverage("rule: x", "bad.yaml", kb)).toThrow(/not a Falco rules file/);
  });

  it("names the entry the bot borrows, for every technique an entry covers", () => {
    const techniques = [...new Set(kb.entries.flatMap((e) => e.mitre))];
    for (const technique of techniques) {
      const [row] = ruleCoverage(stringify([{ rule: "Team rule", tags: [technique] }]), "t.yaml", kb);
      const bot = enrich({ ...alert, rule: "Team rule", tags: [technique] }, kb);
      expect(bot.match).toBe("tag");
      expect(row!.reason, technique).toContain(
        `borrows ${kb.entries.find((e) => e.id === bot.knowledgeId)!.file}`,
      );
    }
  });

  it.skipIf(!HAVE_SHARED)("runs from the CLI over the official rules (skipped without ../shared)", () => {
    const dir = mkdtempSync(join(tmpdir(), "coverage-"));
    try {
      const file = join(dir, "falco_rules.yaml");
      writeFileSync(
        file,
        stringify(
          corpusRules().map((r) => ({
            rule: r.name,
            desc: "d",
            condition: "c",
            output: r.output,
            priority: r.priority,
            tags: r.tags,
            source: r.source,
          })),
        ),
      );
      const run = spawnSync(process.execPath, [join(ROOT, "dist/src/cli/main.js"), "kb", "coverage", file], {
        encoding: "utf8",
      });
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(
        /^rule {6}Fileless execution via memfd_create {2}\(entry syscall\/fileless-execution-via-memfd-create\.yaml\)$/m,
      );
      const summary = /(\d+) rules: (\d+) with an entry/.exec(run.stdout);
      expect(Number(summary?.[1])).toBe(corpusRules().length);
      expect(Number(summary?.[2])).toBe(corpusRules().filter((r) => kb.byRule.has(r.name)).length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
