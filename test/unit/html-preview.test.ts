import { describe, expect, it } from "vitest";
import { renderAlertMessage } from "../../blocks/alert-message.js";
import { escapeMrkdwn } from "../../blocks/escape.js";
import { blocksToHtml, mrkdwnToHtml } from "../../blocks/html.js";
import { enrich } from "../../src/enrich/enrich.js";
import { shippedKnowledgeBase } from "../helpers/knowledge.js";
import type { FalcoAlert } from "../../src/falco/alert.js";

const kb = shippedKnowledgeBase();

/** The tags an HTML string opens: the renderer may produce only these. */
const ALLOWED_TAGS = new Set([
  "h3",
  "section",
  "div",
  "span",
  "b",
  "i",
  "s",
  "code",
  "pre",
  "br",
  "a",
  "time",
  "button",
  "hr",
]);
const tagsOf = (html: string) => [...html.matchAll(/<([a-z0-9]+)[\s>/]/gi)].map((m) => m[1]!.toLowerCase());

describe("Block Kit as HTML for the preview page", () => {
  it("renders Slack's markup: bold, italic, code, preformatted, links, dates", () => {
    expect(mrkdwnToHtml("*Why* it _matters_ `a<b`")).toBe("<b>Why</b> it <i>matters</i> <code>a&lt;b</code>");
    expect(mrkdwnToHtml("```ls -la &gt; out```")).toBe("<pre>ls -la &gt; out</pre>");
    expect(mrkdwnToHtml("<https://attack.mitre.org/techniques/T1620/|T1620>")).toBe(
      '<a href="https://attack.mitre.org/techniques/T1620/" target="_blank" rel="noopener noreferrer">T1620</a>',
    );
    expect(mrkdwnToHtml("<!date^1700000000^{date_short_pretty}|2023-11-14T22:13:20Z>")).toBe(
      '<time datetime="2023-11-14T22:13:20.000Z">2023-11-14T22:13:20Z</time>',
    );
    expect(mrkdwnToHtml("line\nnext")).toBe("line<br>next");
  });

  it.each([
    `<img src=x onerror=alert(1)>`,
    `"><script>alert(1)</script>`,
    `<!channel> <@U024BE7LH> <https://evil.example|click>`,
    `javascript:alert(1)`,
    "`</code><script>x</script>`",
    "```</pre><iframe src=//evil>```",
    `' onmouseover='alert(1)`,
  ])("keeps the alert value %j as text", (value) => {
    const alert: FalcoAlert = {
      uuid: `9b2f6c1e-3d4a-4b5c-8d6e-7f8091a2b3c4`,
      uuidGenerated: false,
      rule: value,
      priority: "Critical",
      source: "syscall",
      hostname: value,
      time: "2024-11-22T09:12:03.112233445Z",
      timeDerivedFrom: "alert",
      output: value,
      outputFields: { "proc.cmdline": value, "proc.name": value, "container.id": value, "fd.name": value },
      tags: [],
      repairs: [],
    };
    const message = renderAlertMessage({
      alert,
      enrichment: enrich(alert, kb),
      triage: { acknowledgedBy: null, acknowledgedAt: null, escalatedBy: null, escalatedAt: null },
      expanded: true,
    });
    const html = blocksToHtml(message.blocks, { channel: "C1", ts: "1.2" });
    for (const tag of tagsOf(html)) expect(ALLOWED_TAGS.has(tag), tag).toBe(true);
    expect(html).not.toMatch(/<a [^>]*href="(?!https:\/\/attack\.mitre\.org)/);
    // Attributes only of the renderer's own (no event handlers, no styles), wherever a tag opens.
    for (const tag of html.matchAll(/<[a-z0-9]+(\s[^>]*)?>/gi))
      for (const attr of (tag[1] ?? "").matchAll(/\s([a-z-]+)=/gi))
        expect(
          ["class", "href", "target", "rel", "datetime", "type"].includes(attr[1]!) ||
            attr[1]!.startsWith("data-"),
          attr[1],
        ).toBe(true);
    // The escaped value Slack would show is what the page shows, all of it: the summary quotes the
    // alert's output (no knowledge-base entry), and its element holds exactly that.
    expect(html).toContain(`<div class="bk-text">Falco reported: ${mrkdwnToHtml(escapeMrkdwn(value))}</div>`);
  });
});
