import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { enrich, outputText } from "../../src/enrich/enrich.js";
import { loadKnowledgeBase } from "../../src/enrich/knowledge.js";
import { fillTemplate, shellQuote, yamlQuote } from "../../src/enrich/placeholders.js";
import type { FalcoAlert } from "../../src/falco/alert.js";
import { parseAlertBody } from "../../src/falco/body.js";

const kb = loadKnowledgeBase();

function alertFrom(path: string): FalcoAlert {
  const r = parseAlertBody(readFileSync(new URL(path, import.meta.url), "utf8"), "json");
  if (!r.ok) throw new Error("bad fixture");
  return r.alerts[0]!;
}

describe("placeholders", () => {
  it("quote values so a shell reads each as one literal word", () => {
    expect(shellQuote("shop-web-1")).toBe("shop-web-1");
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("x'; rm -rf / #")).toBe("'x'\\''; rm -rf / #'");
    expect(shellQuote("$(reboot)")).toBe("'$(reboot)'");
    expect(yamlQuote('a"b')).toBe('"a\\"b"');
  });

  it("fill from the alert and explain what is missing instead of leaving holes", () => {
    const alert = alertFrom("../../examples/memfd-create.json");
    expect(fillTemplate("docker top {{container.id}}", alert, shellQuote)).toEqual({
      text: "docker top c61b4b13ae44",
      missing: [],
    });
    expect(fillTemplate("kubectl -n {{k8s.ns.name}} get pod", alert, shellQuote)).toEqual({
      text: null,
      missing: ["the alert carries no k8s.ns.name"],
    });
    const host = { ...alert, outputFields: { ...alert.outputFields, "container.id": "host" } };
    expect(fillTemplate("docker top {{container.id}}", host, shellQuote).missing).toEqual([
      "the process ran on the host, not in a container",
    ]);
  });
});

describe("enrichment", () => {
  it("matches the memfd_create entry by rule and fills its commands", () => {
    const e = enrich(alertFrom("../../examples/memfd-create.json"), kb);
    expect(e.match).toBe("rule");
    expect(e.knowledgeId).toBe("fileless-execution-via-memfd-create");
    expect(e.mitre.map((m) => [m.id, m.name])).toEqual([["T1620", "Reflective Code Loading"]]);
    expect(e.verdict).toBeNull();
    expect(e.investigate.map((s) => s.command)).toContain("docker top c61b4b13ae44");
    expect(e.tuning?.snippet).toContain('- ["memfd:program", "3"]');
  });

  it("tells runc's memfd:runc self-protection apart from other memfd executions", () => {
    const alert = alertFrom("../../examples/memfd-create.json");
    const runc = {
      ...alert,
      outputFields: { ...alert.outputFields, "proc.exepath": "memfd:runc", "proc.name": ".runc" },
    };
    expect(enrich(runc, kb).verdict?.id).toBe("runc-self-protection");
    const cloned = {
      ...alert,
      outputFields: { ...alert.outputFields, "proc.exepath": "memfd:runc_cloned:/proc/self/exe" },
    };
    expect(enrich(cloned, kb).verdict?.id).toBe("runc-self-protection");
    const lookalike = { ...alert, outputFields: { ...alert.outputFields, "proc.exepath": "memfd:xrunc" } };
    expect(enrich(lookalike, kb).verdict).toBeNull();
  });

  it("borrows read-only guidance by ATT&CK technique for a rule without an entry, never containment", () => {
    const alert = { ...alertFrom("../../examples/terminal-shell.json"), rule: "My team's shell rule" };
    const e = enrich(alert, kb);
    expect(e.match).toBe("tag");
    const related = kb.entries.find((x) => x.id === e.knowledgeId);
    expect(related?.mitre).toContain("T1059");
    expect(related?.rules).toContain(e.relatedRule);
    expect(e.contain).toEqual([]);
    expect(e.tuning).toBeNull();
    expect(e.investigate.length).toBeGreaterThan(0);
  });

  it("falls back to what Falco reported, its priority and tags", () => {
    const alert: FalcoAlert = {
      ...alertFrom("../../examples/terminal-shell.json"),
      rule: "Custom rule",
      priority: "Warning",
      tags: ["T9999", "custom"],
      output: "2026-04-06T13:33:31.372104893+0000: Warning Something odd | a=b",
    };
    const e = enrich(alert, kb);
    expect(e.match).toBe("fallback");
    expect(e.knowledgeId).toBeNull();
    expect(e.summary).toBe("Falco reported: Something odd | a=b");
    expect(e.why).toMatch(/^Falco rates this Warning/);
    expect(e.mitre.map((m) => [m.id, m.name])).toEqual([["T9999", null]]);
    expect(e.contain).toEqual([]);
  });

  it("strips Falco's time and priority prefix in all its formats", () => {
    const a = alertFrom("../../examples/memfd-create.json");
    expect(outputText({ ...a, output: "14:00:46.937782756: Critical Fileless (x)" })).toBe("Fileless (x)");
    expect(outputText({ ...a, output: ": Notice Unexpected setuid" })).toBe("Unexpected setuid");
    expect(outputText({ ...a, output: "Falco metrics snapshot" })).toBe("Falco metrics snapshot");
  });
});
