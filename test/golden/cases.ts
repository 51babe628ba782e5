import { join } from "node:path";
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

export function goldenCases(kb: KnowledgeBase = loadKnowledgeBase()): GoldenCase[] {
  return REPORTS.map((name) => ({
    path: join(REPO_ROOT, "test/golden", `${name}.md`),
    render: () => {
      const alert = fixtureAlert(`report/${name}.json`);
      return reportMarkdown(buildReport(alert, enrich(alert, kb), kb));
    },
  }));
}
