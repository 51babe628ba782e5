import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderAlertMessage, mitigationThreadMessages, type AlertView } from "../../blocks/alert-message.js";
import { blocksToText } from "../../blocks/console-preview.js";
import { escapeMrkdwn, truncate } from "../../blocks/escape.js";
import { renderEscalation } from "../../blocks/escalation.js";
import { limitProblems } from "../../blocks/limits.js";
import { renderLookup } from "../../blocks/lookup.js";
import { enrich } from "../../src/enrich/enrich.js";
import { shippedKnowledgeBase } from "../helpers/knowledge.js";
import type { FalcoAlert } from "../../src/falco/alert.js";
import { parseAlertBody } from "../../src/falco/body.js";

const kb = shippedKnowledgeBase();
const noTriage = { acknowledgedBy: null, acknowledgedAt: null, escalatedBy: null, escalatedAt: null };

function alertFrom(path: string): FalcoAlert {
  const r = parseAlertBody(readFileSync(new URL(path, import.meta.url), "utf8"), "json");
  if (!r.ok) throw new Error("bad fixture");
  return r.alerts[0]!;
}

function view(alert: FalcoAlert, expanded = false): AlertView {
  return { alert, enrichment: enrich(alert, kb), triage: noTriage, expanded };
}

const HOSTILE = [
  "<!channel>",
  "<!here>",
  "<!everyone>",
  "<@U024BE7LH>",
  "<#C024BE7LR>",
  "<!subteam^S123>",
  "<https://evil.example/login|Click to re-authenticate>",
  "@channel please run this",
  "```",
  "`",
  "*bold* _it_ ~s~",
  "&lt;!channel&gt;",
];

function hostileAlert(text: string, size = 1): FalcoAlert {
  const base = alertFrom("../../examples/terminal-shell.json");
  const big = text.repeat(size);
  return {
    ...base,
    rule: base.rule,
    hostname: big,
    output: big,
    outputFields: {
      ...base.outputFields,
      "proc.name": big,
      "proc.cmdline": big,
      "proc.pname": big,
      "container.name": big,
      "container.image.repository": big,
      "k8s.pod.name": big,
      "k8s.ns.name": big,
      "user.name": big,
      "fd.name": big,
    },
  };
}

/** Every text object in a message, with where it came from. */
function texts(blocks: unknown): { type: string; text: string; verbatim?: boolean }[] {
  const out: { type: string; text: string; verbatim?: boolean }[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node && typeof node === "object") {
      const o = node as Record<string, unknown>;
      if ((o.type === "mrkdwn" || o.type === "plain_text") && typeof o.text === "string")
        out.push(o as never);
      Object.values(o).forEach(walk);
    }
  };
  walk(blocks);
  return out;
}

describe("escaping", () => {
  it("escapes Slack's control characters and defangs bare mentions", () => {
    expect(escapeMrkdwn("<!channel> & <@U1>")).toBe("&lt;!channel&gt; &amp; &lt;@U1&gt;");
    expect(escapeMrkdwn("@here now")).toBe("@\u2060here now");
    expect(truncate("abcdef", 4)).toBe("abc…");
    expect(truncate("😀😀😀", 2)).toBe("😀…");
  });

  it.each(HOSTILE)("never lets %s ping, mention or link from an alert field", (payload) => {
    for (const expanded of [false, true]) {
      const message = renderAlertMessage(view(hostileAlert(payload), expanded));
      const all = texts(message.blocks);
      for (const t of all) {
        if (t.type === "mrkdwn") {
          expect(t.verbatim).toBe(true);
          // The only Slack markup allowed is what the app itself writes: ATT&CK links and date tokens.
          for (const m of t.text.matchAll(/<([^>]*)>/g))
            expect(m[1]).toMatch(/^(https:\/\/attack\.mitre\.org\/|!date\^)/);
          expect(t.text).not.toMatch(/@(channel|here|everyone)\b/);
          // Slack reads &, < and > as markup: the app's own text escapes them too.
          expect(t.text).not.toMatch(/&(?!amp;|lt;|gt;)/);
        }
      }
      expect(message.text).not.toMatch(/<[!@#]/);
      expect(message.text).not.toMatch(/<https?:/);
    }
  });
});

describe("Block Kit limits", () => {
  it.each([1, 50, 5000])(
    "fit for alert fields %i times longer than usual, collapsed and expanded",
    (size) => {
      for (const payload of ["A", "<!channel>", "é😀"]) {
        for (const expanded of [false, true]) {
          const message = renderAlertMessage(view(hostileAlert(payload, size), expanded));
          expect(limitProblems(message.blocks)).toEqual([]);
          expect(message.text.length).toBeLessThanOrEqual(3000);
        }
      }
    },
  );

  it("moves mitigation steps that do not fit to thread messages that each fit", () => {
    const alert = hostileAlert("x", 20000);
    const v = view(alert, true);
    // Force the thread path with a knowledge entry too long to fit in place.
    v.enrichment = {
      ...v.enrichment,
      investigate: Array.from({ length: 40 }, (_, i) => ({
        title: `Step ${i}`,
        command: "kubectl get pods ".repeat(60),
        detail: "d".repeat(900),
        snippet: null,
        blastRadius: null,
        missing: [],
      })),
    };
    const message = renderAlertMessage(v);
    expect(message.mitigationFits).toBe(false);
    expect(limitProblems(message.blocks)).toEqual([]);
    const thread = mitigationThreadMessages(v);
    expect(thread.length).toBeGreaterThan(1);
    for (const m of thread) expect(limitProblems(m.blocks)).toEqual([]);
    const all = thread.map((m) => JSON.stringify(m.blocks)).join("");
    for (let i = 0; i < 40; i++) expect(all).toContain(`Step ${i}*`);
  });
});

describe("the alert message", () => {
  it("shows the facts of the memfd sample and the buttons", () => {
    const message = renderAlertMessage(view(alertFrom("../../examples/memfd-create.json")));
    const text = blocksToText(message.blocks);
    expect(text).toContain("━━ :red_circle: Critical: Fileless execution via memfd_create ━━");
    expect(text).toContain("Container: `peaceful_mestorf` (`c61b4b13ae44`)");
    expect(text).toContain("Parent: `event-generator` under `containerd-shim`");
    expect(text).toContain("T1620 Reflective Code Loading (Defense Evasion)");
    expect(text).toContain("[ Acknowledge ] [ Escalate ] [ Resolve ] [ Show mitigation steps ]");
    expect(text).toContain("Time: 2024-10-05T13:00:46.937782756Z");
  });

  it("says who acknowledged and escalated, and drops those buttons", () => {
    const v = view(alertFrom("../../examples/memfd-create.json"));
    v.triage = {
      acknowledgedBy: "U0ALICE",
      acknowledgedAt: "2026-11-22T10:00:00Z",
      escalatedBy: "U0BOB",
      escalatedAt: "2026-11-22T10:05:00Z",
    };
    const text = JSON.stringify(renderAlertMessage(v).blocks);
    expect(text).toContain("Acknowledged by <@U0ALICE> at <!date^1795341600^");
    expect(text).toContain("Escalated by <@U0BOB>");
    expect(text).not.toContain('"Acknowledge"');
    expect(text).not.toContain('"Escalate"');
  });

  it("marks a memfd:runc execution as runc's self-protection", () => {
    const alert = { ...alertFrom("../../examples/memfd-create.json") };
    alert.outputFields = {
      ...alert.outputFields,
      "proc.exepath": "memfd:runc",
      "proc.name": ".runc",
      "container.id": "host",
    };
    const text = JSON.stringify(renderAlertMessage(view(alert)).blocks);
    expect(text).toContain("Looks like runc protecting itself (CVE-2019-5736), usually benign");
    expect(text).toContain("none (host process)");
  });

  it("renders escalations and lookups with only https permalinks", () => {
    const alert = alertFrom("../../examples/memfd-create.json");
    const esc = JSON.stringify(
      renderEscalation(alert, "U0ALICE", "https://example.slack.com/archives/C1/p1").blocks,
    );
    expect(esc).toContain("<https://example.slack.com/archives/C1/p1|View the original alert>");
    expect(JSON.stringify(renderEscalation(alert, "U0ALICE", "javascript:alert(1)").blocks)).not.toContain(
      "javascript:",
    );
    const lookup = renderLookup({ alert, triage: noTriage, state: "new", permalink: null, posted: false });
    expect(JSON.stringify(lookup.blocks)).toContain("Not posted to Slack yet.");
    expect(limitProblems(lookup.blocks)).toEqual([]);
    const linked = (permalink: string | null) =>
      JSON.stringify(renderLookup({ alert, triage: noTriage, state: "new", permalink, posted: true }).blocks);
    expect(linked("https://example.slack.com/archives/C1/p1")).toContain(
      "<https://example.slack.com/archives/C1/p1|Open the alert message>",
    );
    // Posted, but without an https link (the preview workspace's, or none): said so, never linked.
    for (const permalink of ["/preview#msg-C1-1-000001", "javascript:alert(1)", null]) {
      expect(linked(permalink)).toContain("Posted; no link to the message is available.");
      expect(linked(permalink)).not.toContain("Open the alert message");
    }
  });
});

describe("the console preview", () => {
  it("shows control characters from alert text as U+FFFD, not as terminal commands", () => {
    const alert = hostileAlert("\u001b[2J\u001b]0;owned\u0007\u009b31m");
    const text = blocksToText(renderAlertMessage(view(alert)).blocks);
    // eslint-disable-next-line no-control-regex -- no control character may reach the terminal
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(text).toContain("\uFFFD[2J");
  });
});
