import { describe, expect, it } from "vitest";
import { reportMessages } from "../../blocks/report.js";
import { limitProblems } from "../../blocks/limits.js";
import { enrich } from "../../src/enrich/enrich.js";
import { shippedKnowledgeBase } from "../helpers/knowledge.js";
import { commandProblems } from "../../src/enrich/lint.js";
import type { FalcoAlert } from "../../src/falco/alert.js";
import { reportHtml } from "../../src/report/html.js";
import { reportMarkdown } from "../../src/report/markdown.js";
import { formatDuration, observationText, rfc3339ToNanos } from "../../src/report/observations.js";
import { buildReport } from "../../src/report/report.js";
import { fixtureAlert } from "../helpers/fixtures.js";
import { HAVE_SHARED } from "../helpers/shared-corpus.js";
import { corpusRules, syntheticAlert } from "../helpers/synthetic-alert.js";

const kb = shippedKnowledgeBase();
const fixture = (name: string): FalcoAlert => fixtureAlert(`report/${name}.json`);
const reportOf = (alert: FalcoAlert) => buildReport(alert, enrich(alert, kb), kb);

describe("the incident report", () => {
  it("computes the container's age and reads the memfd alert's values rather than guessing", () => {
    const report = reportOf(fixture("memfd-event-generator"));
    const observations = report.observations.map(observationText);
    expect(observations).toContain(
      "The container had started 0.4 s before the event: within its first minute, while entrypoint and init scripts typically still run.",
    );
    expect(observations).toContain("Process lineage, newest first: 3 ← event-generator ← containerd-shim.");
    expect(observations.join("\n")).toMatch(/lives only in memory \(memfd:program\)/);
    expect(observations.join("\n")).toMatch(/No login session/);
    const cwd = report.breakdown.find((f) => f.field === "proc.cwd");
    // proc.cwd=/ says where the process was, nothing about privilege.
    expect(JSON.stringify(cwd)).not.toMatch(/privileged/i);
  });

  it("recognises runc's own memfd execution on the host and says so", () => {
    const report = reportOf(fixture("memfd-runc-host"));
    const observations = report.observations.map((o) => o.id);
    expect(observations).toContain("host-process");
    expect(observations).toContain("benign-pattern");
    expect(observations).not.toContain("container-age");
    expect(report.summary.verdict).toMatch(/runc/);
    expect(report.breakdown.map((f) => f.field)).not.toContain("proc.pname"); // null: left out, not padded
  });

  it("has the sections in the order the issue names, and leaves absent fields out", () => {
    const markdown = reportMarkdown(reportOf(fixture("memfd-event-generator")));
    const headings = [...markdown.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    expect(headings).toEqual([
      "Summary",
      "Event details",
      "Event breakdown",
      "Observations",
      "MITRE ATT&CK",
      "Investigation (read-only)",
      "Containment",
      "Prevention",
      "False positives and tuning",
      "Next steps",
      "References",
    ]);
  });

  it("only contains commands that pass the knowledge-base safety lint", () => {
    for (const name of ["memfd-event-generator", "memfd-runc-host", "k8s-attach-exec"]) {
      const r = reportOf(fixture(name));
      for (const step of [...r.investigate, ...r.contain])
        if (step.command) expect(commandProblems(step.command), step.command).toEqual([]);
    }
  });

  it("keeps hostile values inert in Markdown, HTML and Block Kit", () => {
    const hostile = fixture("memfd-event-generator");
    const evil =
      "<!channel> <@U123> <script>alert(1)</script> [x](https://evil.example) https://evil.example `x`";
    const alert: FalcoAlert = {
      ...hostile,
      rule: `Fileless execution via memfd_create`,
      outputFields: {
        ...hostile.outputFields,
        "proc.name": evil,
        "proc.pname": evil,
        "proc.exepath": `memfd:${evil}`,
      },
    };
    const report = reportOf(alert);

    const markdown = reportMarkdown(report);
    // Outside code spans and fences nothing of the value survives as markup.
    const prose = markdown.replace(/(`+)[\s\S]*?\1/g, "");
    expect(prose).not.toContain("<script>");
    expect(prose).not.toContain("https://evil.example");
    expect(prose).not.toContain("<!channel>");

    const html = reportHtml(report);
    expect(html).not.toContain("<script>");
    expect(html).not.toMatch(/href="https:\/\/evil/);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");

    const messages = reportMessages(report);
    const slack = JSON.stringify(messages);
    expect(slack).not.toContain("<!channel>");
    expect(slack).not.toContain("<@U123>");
    expect(slack).not.toContain("<https://evil.example");
    for (const m of messages) expect(limitProblems(m.blocks)).toEqual([]);
  });

  it("formats durations and parses Falco's nanosecond times exactly", () => {
    expect(rfc3339ToNanos("2024-10-05T13:00:46.937782756Z")).toBe(1728133246937782756n);
    expect(rfc3339ToNanos("2024-10-05T15:00:46.5+02:00")).toBe(1728133246500000000n);
    expect(rfc3339ToNanos("yesterday")).toBeNull();
    expect(formatDuration(400_000_000n)).toBe("0.4 s");
    expect(formatDuration(90_000_000_000n)).toBe("90 s");
    expect(formatDuration(3n * 3600n * 1_000_000_000n + 300n * 1_000_000_000n)).toBe("3 h 5 min");
    expect(formatDuration(6n * 86400n * 1_000_000_000n)).toBe("6 days");
  });
});

describe.skipIf(!HAVE_SHARED)(
  "reports for every official rule (skipped when ../shared/falco is absent)",
  () => {
    it("fit Block Kit limits in every thread message, even with huge values", () => {
      for (const rule of corpusRules()) {
        for (const alert of [syntheticAlert(rule), syntheticAlert(rule, (f) => `<!here>${f}`.repeat(300))]) {
          const messages = reportMessages(reportOf(alert));
          expect(messages.length, rule.name).toBeGreaterThan(0);
          for (const m of messages) expect(limitProblems(m.blocks), rule.name).toEqual([]);
        }
      }
    });
  },
);
