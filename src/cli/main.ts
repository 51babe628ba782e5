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
import { runDemo } from "./demo.js";
import { reportMarkdown } from "../report/markdown.js";
import { buildReport } from "../report/report.js";

const USAGE = `Usage:
  falco-chatops render [--expanded] [file|-]   Print the Block Kit JSON an alert would produce (no Redis, no Slack).
                                               Reads Falco JSON (one alert, an array, or NDJSON) from file or stdin.
  falco-chatops report [--html] [file|-]       Print the written incident report for a Falco JSON alert (Markdown,
                                               or a standalone HTML page with --html).
  falco-chatops demo [url] [--token T]         Send sample alerts (memfd_create, a terminal shell, an AWS root sign-in, a storm of 50) to a
                                               running falco-chatops (default http://localhost:3000; token: INGEST_TOKEN).
  falco-chatops kb lint [dir]                  Validate and safety-lint a knowledge base (default: the bundled one).
  falco-chatops kb coverage <rules.yaml ...>   List which rules of Falco rules files have entries, borrow one, or fall back.
  falco-chatops help                           This help.`;

function readInput(path: string | undefined): string {
  if (!path || path === "-") return readFileSync(0, "utf8");
  return readFileSync(path, "utf8");
}

function fail(message: string, code = 1): never {
  process.stderr.write(`falco-chatops: ${message}\n`);
  process.exit(code);
}

/** The alerts in the one file (or stdin) a command was given; exits with the reason when there are none. */
function readAlerts(command: string, files: string[]): FalcoAlert[] {
  if (files.length > 1) fail(`${command} takes one file (or - for stdin)\n${USAGE}`, 2);
  let text: string;
  try {
    text = readInput(files[0]);
  } catch (error) {
    fail(`cannot read ${files[0]}: ${(error as Error).message}`);
  }
  const parsed = parseAlertBody(text, "json");
  if (!parsed.ok) fail(`not a valid Falco alert:\n  ${parsed.issues.map(formatIssue).join("\n  ")}`);
  return parsed.alerts;
}

function render(args: string[]): void {
  const expanded = args.includes("--expanded");
  const alerts = readAlerts(
    "render",
    args.filter((a) => a !== "--expanded"),
  );
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

function report(args: string[]): void {
  const html = args.includes("--html");
  const alerts = readAlerts(
    "report",
    args.filter((a) => a !== "--html"),
  );
  const kb = loadKnowledgeBase();
  const pages = alerts.map((alert) => {
    const built = buildReport(alert, enrich(alert, kb), kb);
    return html ? reportHtml(built) : reportMarkdown(built);
  });
  process.stdout.write(pages.join(html ? "\n" : "\n---\n\n"));
}

function coverage(files: string[]): void {
  if (files.length === 0) fail(`kb coverage needs at least one Falco rules file\n${USAGE}`, 2);
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

function kb(args: string[]): void {
  const [sub, dir] = args;
  if (sub === "coverage") return coverage(args.slice(1));
  if (sub !== "lint") fail(`unknown kb command "${sub ?? ""}"\n${USAGE}`, 2);
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

const [command, ...rest] = process.argv.slice(2);
switch (command) {
  case "render":
    render(rest);
    break;
  case "report":
    report(rest);
    break;
  case "demo": {
    const tokenAt = rest.indexOf("--token");
    const token = tokenAt >= 0 ? rest[tokenAt + 1] : process.env.INGEST_TOKEN;
    const positional = tokenAt >= 0 ? rest.filter((_, i) => i !== tokenAt && i !== tokenAt + 1) : rest;
    const url = positional[0] ?? "http://localhost:3000";
    runDemo(url, token).then(
      (lines) =>
        process.stdout.write(
          `${lines.join("\n")}\nSee them in Slack, or in preview mode at ${new URL("/preview", url).href}${token ? "?token=<INGEST_TOKEN>" : ""}.\n`,
        ),
      (error: Error) => fail(`demo failed: ${error.message} (is falco-chatops running at ${url}?)`),
    );
    break;
  }
  case "kb":
    kb(rest);
    break;
  case undefined:
  case "help":
  case "--help":
  case "-h":
    process.stdout.write(`${USAGE}\n`);
    break;
  default:
    fail(`unknown command "${command}"\n${USAGE}`, 2);
}
