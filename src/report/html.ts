import type { FilledStep } from "../enrich/enrich.js";
import type { IncidentReport } from "./report.js";

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** Knowledge-base prose: escaped, with its `code` spans shown as code. */
function prose(value: string): string {
  return value
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? `<code>${escapeHtml(part.slice(1, -1))}</code>` : escapeHtml(part)))
    .join("");
}

const code = (value: string) => `<code>${escapeHtml(value)}</code>`;
const pre = (value: string) => `<pre><code>${escapeHtml(value)}</code></pre>`;

/** Only links the knowledge base itself names, and only https. */
function link(url: string, text: string): string {
  return /^https:\/\/[^\s"'<>]+$/.test(url)
    ? `<a href="${escapeHtml(url)}" rel="noopener noreferrer">${text}</a>`
    : text;
}

function steps(list: FilledStep[]): string {
  const items = list.map((s) => {
    const parts = [`<strong>${prose(s.title)}</strong>`];
    if (s.command) parts.push(pre(s.command));
    else if (s.missing.length > 0)
      parts.push(`<p><em>Not filled in: ${escapeHtml(s.missing.join("; "))}.</em></p>`);
    if (s.detail) parts.push(`<p>${prose(s.detail)}</p>`);
    if (s.snippet) parts.push(pre(s.snippet));
    if (s.blastRadius) parts.push(`<p><em>Blast radius:</em> ${prose(s.blastRadius)}</p>`);
    return `<li>${parts.join("\n")}</li>`;
  });
  return `<ol>\n${items.join("\n")}\n</ol>`;
}

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d1c1d}
code,pre{font:13px ui-monospace,monospace;background:#f6f6f6;border-radius:4px}code{padding:0 .2em}
pre{padding:.6em;overflow-x:auto;white-space:pre-wrap;word-break:break-all}h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:1.6em}`;

/** The report as a standalone HTML page; every value from the alert is escaped text. */
export function reportHtml(r: IncidentReport): string {
  const out: string[] = [
    "<!doctype html>",
    '<html lang="en">',
    `<head><meta charset="utf-8"><title>${escapeHtml(r.title)}</title><style>${STYLE}</style></head>`,
    "<body>",
    `<h1>${escapeHtml(r.title)}</h1>`,
    "<h2>Summary</h2>",
    `<p>${prose(r.summary.text)}</p>`,
    `<p>${prose(r.summary.why)}</p>`,
  ];
  if (r.summary.verdict)
    out.push(`<p><strong>Known benign pattern:</strong> ${prose(r.summary.verdict)}</p>`);
  if (r.summary.output) out.push("<p>Falco's output:</p>", pre(r.summary.output));
  if (r.partialVisibility) out.push(`<p><strong>Warning:</strong> ${prose(r.partialVisibility)}</p>`);

  if (r.outcome) {
    out.push(
      "<h2>Outcome</h2>",
      "<ul>",
      `<li><strong>Verdict:</strong> ${escapeHtml(r.outcome.label)}</li>`,
      `<li><strong>Resolved by:</strong> ${code(r.outcome.by)} at ${code(r.outcome.at)}</li>`,
      "</ul>",
    );
    if (r.outcome.note) out.push("<p>Their note:</p>", pre(r.outcome.note));
  }

  out.push("<h2>Event details</h2>", "<ul>");
  for (const d of r.details) out.push(`<li><strong>${escapeHtml(d.label)}:</strong> ${code(d.value)}</li>`);
  out.push("</ul>");

  if (r.breakdown.length > 0) {
    out.push("<h2>Event breakdown</h2>", "<ul>");
    for (const f of r.breakdown) {
      const meaning = f.meaning ? ` — ${f.label ? `${prose(f.label)}: ` : ""}${prose(f.meaning)}` : "";
      const readings = f.readings.map((x) => `<li><strong>Reading:</strong> ${prose(x)}</li>`).join("");
      out.push(
        `<li>${code(f.field)} = ${code(f.value)}${meaning}${readings ? `<ul>${readings}</ul>` : ""}</li>`,
      );
    }
    out.push("</ul>");
  }

  if (r.observations.length > 0) {
    out.push("<h2>Observations</h2>", "<ul>");
    for (const o of r.observations)
      out.push(`<li>${o.parts.map((p) => (typeof p === "string" ? prose(p) : code(p.value))).join("")}</li>`);
    out.push("</ul>");
  }

  if (r.mitre.length > 0) {
    out.push("<h2>MITRE ATT&amp;CK</h2>", "<ul>");
    for (const m of r.mitre)
      out.push(
        `<li>${link(m.url, escapeHtml(m.id))}${m.name ? ` ${escapeHtml(m.name)}` : ""}${m.tactics.length ? ` — tactic: ${escapeHtml(m.tactics.join(", "))}` : ""}</li>`,
      );
    out.push("</ul>");
  }

  for (const [heading, list] of [
    ["Investigation (read-only)", r.investigate],
    ["Containment", r.contain],
    ["Prevention", r.prevent],
  ] as const) {
    if (list.length > 0) out.push(`<h2>${heading}</h2>`, steps(list));
  }

  if (r.falsePositives.length > 0 || r.tuning) {
    out.push("<h2>False positives and tuning</h2>");
    if (r.falsePositives.length > 0)
      out.push(`<ul>${r.falsePositives.map((fp) => `<li>${prose(fp)}</li>`).join("")}</ul>`);
    if (r.tuning) {
      out.push(`<p>${prose(r.tuning.description)}</p>`);
      out.push(
        r.tuning.snippet
          ? pre(r.tuning.snippet)
          : `<p><em>Tuning snippet not filled in: ${escapeHtml(r.tuning.missing.join("; "))}.</em></p>`,
      );
    }
  }

  out.push("<h2>Next steps</h2>", `<ol>${r.nextSteps.map((s) => `<li>${prose(s)}</li>`).join("")}</ol>`);
  if (r.references.length > 0)
    out.push(
      "<h2>References</h2>",
      `<ul>${r.references.map((ref) => `<li>${link(ref.url, escapeHtml(ref.title))}</li>`).join("")}</ul>`,
    );
  out.push("</body>", "</html>", "");
  return out.join("\n");
}
