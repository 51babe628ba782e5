import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { mitigationThreadMessages, renderAlertMessage } from "../../blocks/alert-message.js";
import { limitProblems } from "../../blocks/limits.js";
import { enrich } from "../../src/enrich/enrich.js";
import type { Step } from "../../src/enrich/knowledge.js";
import { shippedKnowledgeBase } from "../helpers/knowledge.js";
import { lintKnowledgeBase } from "../../src/enrich/lint.js";
import { placeholdersIn } from "../../src/enrich/placeholders.js";
import { HAVE_SHARED } from "../helpers/shared-corpus.js";
import { APPENDED_SYSCALL_FIELDS, corpusRules, syntheticAlert } from "../helpers/synthetic-alert.js";

const kb = shippedKnowledgeBase();
const noTriage = { acknowledgedBy: null, acknowledgedAt: null, escalatedBy: null, escalatedAt: null };
const sharedSteps = new Set<Step>(Object.values(kb.shared).flat());

describe("the bundled knowledge base", () => {
  it("loads and passes the safety lint", () => {
    expect(kb.entries.length).toBeGreaterThanOrEqual(2);
    expect(kb.byRule.has("Fileless execution via memfd_create")).toBe(true);
    expect(kb.byRule.has("Terminal shell in container")).toBe(true);
    expect(lintKnowledgeBase(kb)).toEqual([]);
  });

  it("puts placeholders only where they are filled (commands and snippets), never in prose", () => {
    const prose: string[] = [];
    for (const e of kb.entries) {
      const texts = [e.summary, e.why, ...e.false_positives, e.tuning?.description ?? ""];
      for (const s of [...e.investigate, ...e.contain, ...e.prevent])
        texts.push(s.title, s.detail ?? "", s.blast_radius ?? "");
      for (const t of texts) if (placeholdersIn(t).length > 0) prose.push(`${e.file}: ${t.slice(0, 80)}`);
    }
    expect(prose).toEqual([]);
  });

  it("keeps entries specific: no step text is copied between entries (shared steps go through `use:`)", () => {
    const seen = new Map<string, string>();
    const copies: string[] = [];
    for (const entry of kb.entries) {
      for (const step of [...entry.investigate, ...entry.contain, ...entry.prevent]) {
        if (sharedSteps.has(step)) continue;
        for (const text of [step.command, step.detail, step.snippet]) {
          if (!text) continue;
          const other = seen.get(text);
          if (other && other !== entry.id)
            copies.push(`${entry.id} repeats text of ${other}: ${text.slice(0, 80)}`);
          seen.set(text, entry.id);
        }
      }
      for (const text of [entry.summary, entry.why]) {
        const other = seen.get(text);
        if (other && other !== entry.id) copies.push(`${entry.id} repeats the summary or why of ${other}`);
        seen.set(text, entry.id);
      }
    }
    expect(copies).toEqual([]);
  });
});

describe.skipIf(!HAVE_SHARED)(
  "entries against the official rules (skipped when ../shared/falco is absent)",
  () => {
    const rules = HAVE_SHARED ? corpusRules() : [];
    const byName = new Map(rules.map((r) => [r.name, r]));

    // Every syscall rule and every rule of the five plugins whose alerts reach the same channel.
    const SCOPE: [source: string, count: number][] = [
      ["syscall", 97],
      ["k8s_audit", 48],
      ["aws_cloudtrail", 22],
      ["gcp_auditlog", 39],
      ["okta", 21],
      ["github", 15],
    ];
    it.each(SCOPE)("cover every %s rule (%i)", (source, count) => {
      const inScope = rules.filter((r) => r.source === source);
      expect(inScope).toHaveLength(count);
      expect(inScope.filter((r) => !kb.byRule.has(r.name)).map((r) => r.name)).toEqual([]);
      for (const r of inScope) expect(kb.byRule.get(r.name)?.source, r.name).toBe(source);
    });

    it("cover plugin rules that upstream ships disabled: they say so and show how to enable them", () => {
      const disabled = rules.filter((r) => r.source !== "syscall" && !r.enabled);
      expect(disabled.length).toBeGreaterThan(10);
      for (const r of disabled) {
        const entry = kb.byRule.get(r.name)!;
        expect(`${entry.summary} ${entry.why} ${entry.tuning?.description}`, r.name).toMatch(/disabled/i);
        expect(entry.tuning?.snippet, r.name).toContain(`- rule: ${r.name}\n  enabled: true`);
      }
    });

    it("explain only official rules, by their exact names", () => {
      for (const entry of kb.entries)
        for (const name of entry.rules) expect(byName.has(name), `"${name}" in ${entry.file}`).toBe(true);
    });

    it("use only placeholders that each rule's output carries", () => {
      const problems: string[] = [];
      for (const entry of kb.entries) {
        const texts = [...entry.investigate, ...entry.contain, ...entry.prevent].map(
          (s) => `${s.command ?? ""} ${s.snippet ?? ""}`,
        );
        texts.push(entry.tuning?.snippet ?? "");
        const used = new Set(texts.flatMap(placeholdersIn));
        for (const name of entry.rules) {
          const rule = byName.get(name);
          if (!rule) continue;
          const carried = new Set([
            ...rule.fields,
            "hostname",
            // `ns.pid` is made from container.id and proc.pid; a step needing proc.pid says how to add it.
            ...(rule.source === "syscall" ? [...APPENDED_SYSCALL_FIELDS, "proc.pid", "ns.pid"] : []),
          ]);
          for (const field of used)
            if (!carried.has(field))
              problems.push(`${entry.file}: {{${field}}} is not in the output of "${name}"`);
        }
      }
      expect(problems).toEqual([]);
    });

    it("match by rule, and their expanded messages fit Block Kit limits, with realistic and with huge values", () => {
      for (const entry of kb.entries) {
        for (const name of entry.rules) {
          const rule = byName.get(name);
          if (!rule) continue;
          for (const alert of [
            syntheticAlert(rule),
            syntheticAlert(rule, (f) => `<!channel>${f}`.repeat(400)),
          ]) {
            const enrichment = enrich(alert, kb);
            expect(enrichment.match, name).toBe("rule");
            const view = { alert, enrichment, triage: noTriage, expanded: true };
            const message = renderAlertMessage(view);
            expect(limitProblems(message.blocks), name).toEqual([]);
            if (!message.mitigationFits)
              for (const m of mitigationThreadMessages(view))
                expect(limitProblems(m.blocks), name).toEqual([]);
          }
          // With realistic values, no command is left unfilled for lack of a field the rule carries
          // (proc.pid is opt-in: a step that needs it says how to add it to the output).
          const realistic = enrich(syntheticAlert(rule), kb);
          const unfilled = [...realistic.investigate, ...realistic.contain].filter(
            (s) => s.missing.filter((m) => !m.startsWith("the alert carries no proc.pid")).length > 0,
          );
          expect(
            unfilled.map((s) => `${s.title}: ${s.missing.join(", ")}`),
            name,
          ).toEqual([]);
        }
      }
    });
  },
);

describe("the quarantine step", () => {
  const steps = kb.shared["label-quarantine"]!;
  const manifests = steps.flatMap((s) =>
    s.snippet ? [parseYaml(s.snippet) as Record<string, unknown>] : [],
  );

  it("says that a NetworkPolicy only adds allowed traffic, and that the label alone does nothing", () => {
    const text = steps.map((s) => `${s.title} ${s.detail ?? ""}`).join(" ");
    expect(text).toMatch(/only ever add allowed traffic/);
    expect(text).toMatch(/A label alone changes\s+nothing/);
  });

  it("gives policies that deny on Cilium and Calico, selecting the quarantine label", () => {
    const cilium = manifests.find((m) => m.kind === "CiliumNetworkPolicy") as {
      spec: { endpointSelector: unknown; ingressDeny: unknown[]; egressDeny: unknown[] };
    };
    expect(cilium.spec.endpointSelector).toEqual({ matchLabels: { "falco-chatops/quarantine": "true" } });
    expect(cilium.spec.ingressDeny).toEqual([{ fromEntities: ["all"] }]);
    expect(cilium.spec.egressDeny).toEqual([{ toEntities: ["all"] }]);
    const calico = manifests.find((m) => m.kind === "GlobalNetworkPolicy") as {
      spec: { order: number; selector: string; ingress: unknown[]; egress: unknown[] };
    };
    expect(calico.spec.order).toBeLessThan(1000);
    expect(calico.spec.selector).toBe('falco-chatops/quarantine == "true"');
    expect(calico.spec.ingress).toEqual([{ action: "Deny" }]);
    expect(calico.spec.egress).toEqual([{ action: "Deny" }]);
  });

  it("says, for each policy, what still gets through", () => {
    for (const step of steps.filter((s) => s.snippet))
      expect(step.blast_radius, step.title).toMatch(
        /Still gets through|only for traffic no other NetworkPolicy/,
      );
  });
});
