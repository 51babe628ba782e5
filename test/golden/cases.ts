import { basename, join } from "node:path";
import { type AlertView, mitigationThreadMessages, renderAlertMessage } from "../../blocks/alert-message.js";
import { enrich } from "../../src/enrich/enrich.js";
import { type KnowledgeBase, loadKnowledgeBase } from "../../src/enrich/knowledge.js";
import { reportMarkdown } from "../../src/report/markdown.js";
import { buildReport } from "../../src/report/report.js";
import { REPO_ROOT, fixtureAlert } from "../helpers/fixtures.js";

/*
 * The golden files: whole outputs, reviewed by a person once and then held still. The golden test
 * compares each with what the code renders now; `npm run golden` (write.ts) rewrites them after a
 * deliberate change, and the diff is reviewed like code.
 */

export interface GoldenCase {
  /** Where the expected output is kept. */
  path: string;
  /** What the code renders now. */
  render(): string;
}

const REPORTS = ["memfd-event-generator", "memfd-runc-host", "k8s-attach-exec"];

/** One alert per source family: syscall, Kubernetes audit, cloud audit log, SaaS audit log. */
const MESSAGES = [
  "messages/syscall-read-sensitive-file.json",
  "report/k8s-attach-exec.json",
  "messages/cloudtrail-delete-bucket-public-access-block.json",
  "messages/okta-too-many-failed-mfa.json",
];

/**
 * A new alert's messages, whole, as the view returns them: the message posted, the message after a
 * reader clicks "Show mitigation steps", and the thread replies that carry the steps when they do
 * not fit in the message (as the expand button's listener does).
 */
function alertMessages(fixture: string, kb: KnowledgeBase): string {
  const alert = fixtureAlert(fixture);
  const view: AlertView = {
    alert,
    enrichment: enrich(alert, kb),
    triage: { acknowledgedBy: null, acknowledgedAt: null, escalatedBy: null, escalatedAt: null },
    expanded: false,
  };
  const posted = renderAlertMessage(view);
  let expanded = renderAlertMessage({ ...view, expanded: true });
  const thread = expanded.mitigationFits ? [] : mitigationThreadMessages({ ...view, expanded: true });
  if (thread.length > 0) expanded = renderAlertMessage({ ...view, expanded: true, mitigationInThread: true });
  return `${JSON.stringify({ posted, expanded, thread }, null, 2)}\n`;
}

export function goldenCases(kb: KnowledgeBase = loadKnowledgeBase()): GoldenCase[] {
  return [
    ...REPORTS.map((name) => ({
      path: join(REPO_ROOT, "test/golden", `${name}.md`),
      render: () => {
        const alert = fixtureAlert(`report/${name}.json`);
        return reportMarkdown(buildReport(alert, enrich(alert, kb), kb));
      },
    })),
    ...MESSAGES.map((fixture) => ({
      path: join(REPO_ROOT, "test/golden/messages", basename(fixture)),
      render: () => alertMessages(fixture, kb),
    })),
  ];
}
