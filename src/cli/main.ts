#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { renderAlertMessage } from "../../blocks/alert-message.js";
import { enrich } from "../enrich/enrich.js";
import { KnowledgeBaseError, loadKnowledgeBase } from "../enrich/knowledge.js";
import { ruleCoverage } from "../enrich/coverage.js";
import { lintKnowledgeBase } from "../enrich/lint.js";
import type { FalcoAlert } from "../falco/alert.js";
import { parseAlertBody } from "../falco/body.js";
import { formatIssue } from "../falco/schema.js";
import { reportHtml } from "../report/html.js";
import { parseCommandLine, USAGE, UsageError, type Invocation } from "./args.js";
import { runDemo } from "./demo.js";
import { reportMarkdown } from "../report/markdown.js";
import { buildReport } from "../report/report.js";

function readInput(path: string | undefined): string {
  if (!path || path === "-") return readFileSync(0, "utf8");
  return readFileSync(path, "utf8");
}

function fail(message: string, code = 1): never {
  process.stderr.write(`falco-chatops: ${message}\n`);
  process.exit(code);
}

/** The alerts in the file (or stdin) a command was given; exits with the reason when there are none. */
function readAlerts(file: string | undefined): FalcoAlert[] {
  let text: string;
  try {
    text = readInput(file);
  } catch (error) {
    fail(`cannot read ${file}: ${(error as Error).message}`);
  }
  const parsed = parseAlertBody(text, "json");
  if (!parsed.ok) fail(`not a valid Falco alert:\n  ${parsed.issues.map(formatIssue).join("\n  ")}`);
  return parsed.alerts;
}

function render(file: string | undefined, expanded: boolean): void {
  const alerts = readAlerts(file);
  const kb = loadKnowledgeBase();
  const messages = alerts.map((alert) => {
    const { text: fallback, blocks } = renderAlertMessage({
      alert,
      enrichment: enrich(alert, kb),
      triage: { acknowledgedBy: null, acknowledgedAt: null, escalatedBy: null, escalatedAt: null },
      expanded,
    });
    return { text: fallback, blocks };
  });
  process.stdout.write(JSON.stringify(messages.length === 1 ? messages[0] : messages, null, 2) + "\n");
}

function report(file: string | undefined, html: boolean): void {
  const alerts = readAlerts(file);
  const kb = loadKnowledgeBase();
  const pages = alerts.map((alert) => {
    const built = buildReport(alert, enrich(alert, kb), kb);
    return html ? reportHtml(built) : reportMarkdown(built);
  });
  process.stdout.write(pages.join(html ? "\n" : "\n---\n\n"));
}

function coverage(files: string[]): void {
  const base = loadKnowledgeBase();
  const rows = files.flatMap((file) => {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      fail(`cannot read ${file}: ${(error as Error).message}`);
    }
    try {
      return ruleCoverage(text, file, base);
    } catch (error) {
      fail((error as Error).message);
    }
  });
  for (const row of rows) process.stdout.write(`${row.match.padEnd(8)}  ${row.rule}  (${row.reason})\n`);
  const count = (m: string) => rows.filter((r) => r.match === m).length;
  process.stdout.write(
    `\n${rows.length} rules: ${count("rule")} with an entry, ${count("tag")} borrowing one by ATT&CK technique, ${count("fallback")} falling back\n`,
  );
}

function lint(dir: string | undefined): void {
  try {
    const base = loadKnowledgeBase(dir);
    const problems = lintKnowledgeBase(base);
    if (problems.length) fail(`${problems.length} problem(s):\n  ${problems.join("\n  ")}`);
    process.stdout.write(
      `${base.entries.length} entries, ${base.byRule.size} rule names: no problems found\n`,
    );
  } catch (error) {
    if (error instanceof KnowledgeBaseError) fail(error.message);
    throw error;
  }
}

function demo(url: string, token: string | undefined): void {
  runDemo(url, token).then(
    (lines) =>
      process.stdout.write(
        `${lines.join("\n")}\nSee them in Slack, or in preview mode at ${new URL("/preview", url).href}${token ? "?token=<INGEST_TOKEN>" : ""}.\n`,
      ),
    (error: Error) => fail(`demo failed: ${error.message} (is falco-chatops running at ${url}?)`),
  );
}

let invocation: Invocation;
try {
  invocation = parseCommandLine(process.argv.slice(2), process.env);
} catch (error) {
  if (error instanceof UsageError) fail(`${error.message}\n${error.usage}`, 2);
  throw error;
}
switch (invocation.command) {
  case "render":
    render(invocation.file, invocation.expanded);
    break;
  case "report":
    report(invocation.file, invocation.html);
    break;
  case "demo":
    demo(invocation.url, invocation.token);
    break;
  case "kb lint":
    lint(invocation.dir);
    break;
  case "kb coverage":
    coverage(invocation.files);
    break;
  case "help":
    process.stdout.write(`${USAGE}\n`);
    break;
}
