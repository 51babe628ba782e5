import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { procfileCommand } from "../../support/procfile.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const read = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url), "utf8");

describe("deployment files", () => {
  it("Kubernetes manifests parse, probe /readyz and /healthz, and run the Procfile's two processes as non-root", () => {
    const docs = parseAllDocuments(read("deploy/kubernetes/falco-chatops.yaml")).map(
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- walks arbitrary manifests
      (d) => d.toJS() as Record<string, any>,
    );
    const kinds = docs.map((d) => `${d.kind}/${d.metadata.name}`);
    expect(kinds).toEqual([
      "Secret/falco-chatops",
      "ConfigMap/falco-chatops",
      "Deployment/falco-chatops-web",
      "Deployment/falco-chatops-worker",
      "Service/falco-chatops",
    ]);
    const [web, worker] = [docs[2]!, docs[3]!].map((d) => d.spec.template.spec.containers[0]);
    expect(web.readinessProbe.httpGet.path).toBe("/readyz");
    expect(web.livenessProbe.httpGet.path).toBe("/healthz");
    const procfile = read("Procfile");
    expect(procfile).toContain(web.command.slice(1).join(" "));
    expect(procfile).toContain(worker.command.slice(1).join(" "));
    for (const d of [docs[2]!, docs[3]!])
      expect(d.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    // The web container's memory limit leaves room above Node's heap limit: V8 must reach its own
    // limit (and collect) before the kernel kills the process.
    const heapMb = Number(/--max-old-space-size=(\d+)/.exec(web.command.join(" "))?.[1]);
    const limitMi = Number(/^(\d+)Mi$/.exec(String(web.resources.limits.memory))?.[1]);
    expect(heapMb).toBeGreaterThan(0);
    expect(limitMi).toBeGreaterThanOrEqual(heapMb + 128);
  });

  it("the Dockerfile runs as non-root, installs production dependencies only, and starts the web process", () => {
    const dockerfile = read("Dockerfile");
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toContain("npm ci --omit=dev --ignore-scripts");
    expect(dockerfile).toContain('CMD ["node", "--max-old-space-size=1024", "dist/src/main/web.js"]');
  });

  it("every command that runs the web part gives Node the Procfile's flags", () => {
    const procfile = /^web: node (.*)dist\/src\/main\/web\.js$/m.exec(read("Procfile"));
    const flags = procfile?.[1]?.trim() ?? "";
    expect(flags).toMatch(/^--max-old-space-size=\d+$/);
    const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toBe(`node ${flags} dist/src/main/all-in-one.js`);
    expect(scripts["start:web"]).toBe(`node ${flags} dist/src/main/web.js`);
    const asArray = JSON.stringify(["node", ...flags.split(" "), "dist/src/main/web.js"]).replaceAll(
      ",",
      ", ",
    );
    expect(read("Dockerfile")).toContain(`CMD ${asArray}`);
    expect(read("deploy/kubernetes/falco-chatops.yaml")).toContain(`command: ${asArray}`);
    // The benchmark starts the web process from the Procfile's line, so its figures are the product's.
    expect(procfileCommand(root, "web").nodeFlags).toEqual(flags.split(" "));
  });
});
