import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { enrich, outputText } from "../../src/enrich/enrich.js";
import { shippedKnowledgeBase } from "../helpers/knowledge.js";
import { fillCommand, fillTemplate, shellQuote } from "../../src/enrich/placeholders.js";
import type { FalcoAlert } from "../../src/falco/alert.js";
import { parseAlertBody } from "../../src/falco/body.js";

const kb = shippedKnowledgeBase();

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
    expect(e.investigate.map((s) => s.command)).toContain(
      "docker top c61b4b13ae44 -o pid,ppid,user,lstart,args",
    );
    // Each value is one Falco string literal inside a YAML scalar, so that Falco's loader leaves it alone.
    expect(e.tuning?.snippet).toContain(`- ['"memfd:program"', '"c61b4b13ae44"']`);
  });

  it("calls runc's memfd:runc self-protection likely only on the host, where runc runs", () => {
    const alert = alertFrom("../../examples/memfd-create.json");
    const onHost = {
      ...alert,
      outputFields: { ...alert.outputFields, "proc.exepath": "memfd:runc", "container.id": "host" },
    };
    expect(enrich(onHost, kb).verdict).toMatchObject({ id: "runc-self-protection", confidence: "likely" });
    // In a container, the memfd name is all there is: anyone can call memfd_create("runc").
    const inContainer = { ...alert, outputFields: { ...alert.outputFields, "proc.exepath": "memfd:runc" } };
    const possible = enrich(inContainer, kb).verdict;
    expect(possible).toMatchObject({ id: "runc-name-only", confidence: "possible" });
    expect(possible?.explanation).toContain("which the actor chooses");
    const lookalike = { ...alert, outputFields: { ...alert.outputFields, "proc.exepath": "memfd:xrunc" } };
    expect(enrich(lookalike, kb).verdict).toBeNull();
  });

  it("shows each step only where it applies: host, Docker, containerd/CRI-O, Kubernetes", () => {
    const base = alertFrom("../../examples/memfd-create.json");
    const commands = (fields: Record<string, string | number | null>) =>
      enrich({ ...base, outputFields: { ...base.outputFields, ...fields } }, kb).investigate.flatMap((s) =>
        s.command ? [s.command] : [],
      );
    const k8s = commands({ "k8s.pod.name": "web-1", "k8s.ns.name": "shop" });
    expect(k8s).toContain("kubectl -n shop describe pod web-1");
    expect(k8s).toContain("crictl inspect c61b4b13ae44");
    expect(k8s.some((c) => c.startsWith("docker "))).toBe(false);
    const docker = commands({ "container.type": "docker" });
    expect(docker).toContain("docker inspect c61b4b13ae44");
    expect(docker.some((c) => c.startsWith("crictl ") || c.startsWith("kubectl "))).toBe(false);
    const host = commands({ "container.id": "host", "container.name": "host", "proc.pid": 4242 });
    expect(host.some((c) => /^(docker|crictl|kubectl) /.test(c))).toBe(false);
    expect(host).toContain("ps -o pid,ppid,user,lstart,args -p 4242");
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

  it("shows a command once when two shared steps come down to it on this alert's runtime", () => {
    const base = alertFrom("../../examples/memfd-create.json");
    const entry = {
      ...kb.byRule.get(base.rule)!,
      investigate: [...kb.shared["container-processes"]!, ...kb.shared["docker-top"]!],
    };
    const small = { ...kb, byRule: new Map([[base.rule, entry]]) };
    const k8s = { ...base, outputFields: { ...base.outputFields, "k8s.pod.name": "p", "k8s.ns.name": "n" } };
    const commands = enrich(k8s, small).investigate.map((s) => s.command);
    expect(commands).toEqual([
      "pgrep -a --ns $(crictl inspect --output go-template --template '{{.info.pid}}' c61b4b13ae44) --nslist pid",
    ]);
  });

  it("says what to key a host process's exception on when the snippet wants an image", () => {
    const base = alertFrom("../../examples/terminal-shell.json");
    const onHost = {
      ...base,
      rule: "Redirect STDOUT/STDIN to Network Connection in Container",
      outputFields: {
        ...base.outputFields,
        "container.id": "host",
        "container.image.repository": "",
        "fd.sip": "10.0.0.9",
      },
    };
    expect(enrich(onHost, kb).tuning?.missing).toEqual([
      'the process ran on the host, which has no container.image.repository: key the exception on container.id = "host" and the executable\'s path instead',
    ]);
  });

  it("reach a container's namespaces through its runtime, a host process's through its PID", () => {
    const base = alertFrom("../../examples/memfd-create.json");
    const fill = (fields: Record<string, string | number | null>) =>
      fillCommand("nsenter -t {{ns.pid}} -n ss -tnp", {
        ...base,
        outputFields: { ...base.outputFields, ...fields },
      });
    expect(fill({ "k8s.pod.name": "p", "k8s.ns.name": "n" }).text).toBe(
      "nsenter -t $(crictl inspect --output go-template --template '{{.info.pid}}' c61b4b13ae44) -n ss -tnp",
    );
    expect(fill({ "container.type": "docker" }).text).toBe(
      "nsenter -t $(docker inspect --format '{{.State.Pid}}' c61b4b13ae44) -n ss -tnp",
    );
    expect(fill({ "container.id": "host", "proc.pid": null }).text).toBe("nsenter -t 1 -n ss -tnp");
    expect(fill({ "container.id": "host", "proc.pid": 321 }).text).toBe("nsenter -t 321 -n ss -tnp");
    expect(fill({ "proc.pid": null }).missing).toEqual([
      "the alert carries neither proc.pid nor the container's runtime (container.type)",
    ]);
    // A hostile container id stays one quoted word inside the substitution.
    expect(fill({ "container.type": "docker", "container.id": "x; reboot" }).text).toBe(
      "nsenter -t $(docker inspect --format '{{.State.Pid}}' 'x; reboot') -n ss -tnp",
    );
  });

  it("strips Falco's time and priority prefix in all its formats", () => {
    const a = alertFrom("../../examples/memfd-create.json");
    expect(outputText({ ...a, output: "14:00:46.937782756: Critical Fileless (x)" })).toBe("Fileless (x)");
    expect(outputText({ ...a, output: ": Notice Unexpected setuid" })).toBe("Unexpected setuid");
    expect(outputText({ ...a, output: "Falco metrics snapshot" })).toBe("Falco metrics snapshot");
  });
});
