import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { FalcoAlert } from "../../src/falco/alert.js";
import { parseAlertBody } from "../../src/falco/body.js";

/** The repository's root: the nearest folder above this file with a package.json (also when compiled). */
function findRepoRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${import.meta.dirname}`);
    dir = up;
  }
  return dir;
}

export const REPO_ROOT = findRepoRoot();

/** The alert in a fixture file under test/fixtures/, parsed as POST /falco parses it. */
export function fixtureAlert(path: string): FalcoAlert {
  const parsed = parseAlertBody(readFileSync(join(REPO_ROOT, "test/fixtures", path), "utf8"), "json");
  if (!parsed.ok || parsed.alerts.length !== 1) throw new Error(`fixture ${path} is not one valid alert`);
  return parsed.alerts[0]!;
}
