import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, relative } from "node:path";
import { REPO_ROOT } from "../helpers/fixtures.js";
import { goldenCases } from "./cases.js";

// `npm run golden`: writes every golden file from the current code. Review the diff before committing.
for (const golden of goldenCases()) {
  const text = golden.render();
  const before = existsSync(golden.path) ? readFileSync(golden.path, "utf8") : null;
  if (before !== text) {
    mkdirSync(dirname(golden.path), { recursive: true });
    writeFileSync(golden.path, text);
  }
  const state = before === null ? "written" : before === text ? "unchanged" : "rewritten";
  console.log(`${state.padEnd(9)} ${relative(REPO_ROOT, golden.path)}`);
}
