import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** The project's shared Falco materials, next to the repository when present. */
export const SHARED_FALCO = resolve(import.meta.dirname, "../../../shared/falco");
export const HAVE_SHARED = existsSync(SHARED_FALCO);

export function realAlertFiles(): { name: string; text: string }[] {
  const root = join(SHARED_FALCO, "real-alerts");
  const out: { name: string; text: string }[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(json|txt)$/.test(entry.name))
        out.push({ name: path.slice(root.length + 1), text: readFileSync(path, "utf8") });
    }
  };
  walk(root);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}
