import { execFile, execFileSync, spawnSync } from "node:child_process";

/**
 * libsinsp's filter compiler, as Debian's `sysdig` package ships it: `sysdig -r /dev/null <filter>`
 * prints `filter error at position N: …` when the filter does not compile, and `Could not
 * initialize reader` once it did (there is no capture file to read).
 */

function findSysdig(): boolean {
  return spawnSync("sysdig", ["--version"], { stdio: "ignore" }).status === 0;
}

export const HAVE_SYSDIG = findSysdig();
export const NO_SYSDIG_REASON =
  "sysdig is not installed: the Falco snippet tests need libsinsp's filter compiler " +
  "(apt-get install --no-install-recommends sysdig; .ci/run installs it)";

export type Compiled = { ok: true } | { ok: false; position: number | null; message: string };

/** Compiles one filter; several may run at once (each is its own sysdig process). */
export function compileFilter(filter: string): Promise<Compiled> {
  return new Promise((resolve) => {
    execFile(
      "sysdig",
      ["-r", "/dev/null", filter],
      { encoding: "utf8", timeout: 20_000 },
      (error, stdout, stderr) => {
        const out = `${stdout}${stderr}`;
        if (/Could not initialize reader/.test(out)) return resolve({ ok: true });
        const found = /filter error at position (\d+): (.*)/.exec(out);
        if (found) return resolve({ ok: false, position: Number(found[1]), message: found[2]! });
        resolve({
          ok: false,
          position: null,
          message: `sysdig failed (${error?.code ?? error?.signal}): ${out.trim()}`,
        });
      },
    );
  });
}

let known: Map<string, string> | null = null;

/** The fields this libsinsp knows, with their types (`sysdig --list-markdown`). */
export function fieldTypes(): Map<string, string> {
  if (known) return known;
  const listing = execFileSync("sysdig", ["--list-markdown"], { encoding: "utf8" });
  known = new Map(
    [...listing.matchAll(/^`([a-z][a-z0-9_.]*)` \| ([A-Z0-9_]+) \|/gm)].map((m) => [m[1]!, m[2]!]),
  );
  return known;
}

export function knownFields(): Set<string> {
  return new Set(fieldTypes().keys());
}

/** Splits a condition into string literals (as libsinsp's lexer ends them) and the text between. */
function segments(condition: string): { text: string; literal: boolean }[] {
  const out: { text: string; literal: boolean }[] = [];
  let i = 0;
  let plain = "";
  while (i < condition.length) {
    const ch = condition[i]!;
    if (ch === '"' || ch === "'") {
      let j = i + 1;
      while (j < condition.length && !(condition[j] === ch && condition[j - 1] !== "\\")) j++;
      out.push({ text: plain, literal: false });
      plain = "";
      out.push({ text: condition.slice(i, j + 1), literal: true });
      i = j + 1;
    } else {
      plain += ch;
      i++;
    }
  }
  out.push({ text: plain, literal: false });
  return out;
}

/**
 * The condition with every field this libsinsp does not know (plugin fields such as `ka.*`, `ct.*`,
 * and syscall fields newer than it) replaced by `fd.name`, a string field it knows, so that the
 * syntax can be checked. String literals are left exactly as they are.
 */
export function withKnownFields(condition: string): string {
  const fields = knownFields();
  const isKnown = (name: string) =>
    fields.has(name) || /^evt\.(raw)?arg\.[a-z0-9_]+$/.test(name) || name === "evt.arg";
  return segments(condition)
    .map((s) =>
      s.literal
        ? s.text
        : s.text.replace(/\b([a-z][a-z0-9_]*(?:\.[A-Za-z0-9_]+)+)(\[[^\]]*\])?/g, (whole, name: string) =>
            isKnown(name) ? whole : "fd.name",
          ),
    )
    .join("");
}
