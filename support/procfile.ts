import { readFileSync } from "node:fs";
import { resolve } from "node:path";

/**
 * A Procfile process type's command as `node <flags> <script>`: the benchmark starts the processes
 * exactly as a deployment does, heap limit included.
 */
export function procfileCommand(root: string, type: string): { nodeFlags: string[]; script: string } {
  const line = readFileSync(resolve(root, "Procfile"), "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${type}:`));
  const words =
    line
      ?.slice(type.length + 1)
      .trim()
      .split(/\s+/) ?? [];
  if (words[0] !== "node" || words.length < 2) throw new Error(`Procfile has no "${type}: node …" line`);
  return { nodeFlags: words.slice(1, -1), script: resolve(root, words.at(-1)!) };
}
