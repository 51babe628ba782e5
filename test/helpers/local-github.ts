import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A stand-in for the parts of GitHub's REST API that opening a pull request uses, answering with the
 * status codes and JSON shapes GitHub documents (docs.github.com/rest: git/refs, repos/contents,
 * pulls): 401 "Bad credentials" for a wrong token, 404 "Not Found", 422 for a branch that exists or
 * an update of an existing file without its sha, 201/200 with the created objects otherwise. It
 * records every request.
 */

export interface GitHubRequest {
  method: string;
  path: string;
  query: string;
  authorization: string | undefined;
  accept: string | undefined;
  apiVersion: string | undefined;
  body: Record<string, unknown> | null;
}

interface FileState {
  content: string;
  sha: string;
}

interface Branch {
  sha: string;
  files: Map<string, FileState>;
}

export interface PullRequest {
  number: number;
  title: string;
  head: string;
  base: string;
  body: string;
}

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

export class LocalGitHub {
  readonly requests: GitHubRequest[] = [];
  readonly pulls: PullRequest[] = [];
  private readonly branches = new Map<string, Branch>();
  private server: Server | null = null;
  private scripted: { status: number; message: string }[] = [];

  constructor(
    readonly repo: string,
    readonly token: string,
    baseBranch = "main",
    files: Record<string, string> = {},
  ) {
    this.branches.set(baseBranch, {
      sha: sha1(`${baseBranch}-head`),
      files: new Map(Object.entries(files).map(([p, c]) => [p, { content: c, sha: sha1(c) }])),
    });
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** The file as it is on a branch, or undefined. */
  file(branch: string, path: string): FileState | undefined {
    return this.branches.get(branch)?.files.get(path);
  }

  /** The next request is answered with this error, as GitHub would answer it. */
  failNext(status: number, message: string): void {
    this.scripted.push({ status, message });
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://x");
    this.requests.push({
      method: req.method ?? "",
      path: url.pathname,
      query: url.search,
      authorization: req.headers.authorization,
      accept: req.headers.accept,
      apiVersion: req.headers["x-github-api-version"] as string | undefined,
      body: raw ? (JSON.parse(raw) as Record<string, unknown>) : null,
    });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
      res.end(JSON.stringify(body));
    };
    const error = (status: number, message: string) =>
      send(status, { message, documentation_url: "https://docs.github.com/rest", status: String(status) });
    const scripted = this.scripted.shift();
    if (scripted) return error(scripted.status, scripted.message);
    if (req.headers.authorization !== `Bearer ${this.token}`) return error(401, "Bad credentials");
    const prefix = `/repos/${this.repo}`;
    if (!url.pathname.startsWith(`${prefix}/`)) return error(404, "Not Found");
    const rest = url.pathname.slice(prefix.length);
    const body = this.requests.at(-1)!.body ?? {};

    let m = /^\/git\/ref\/heads\/(.+)$/.exec(rest);
    if (m && req.method === "GET") {
      const name = decodeURIComponent(m[1]!);
      const branch = this.branches.get(name);
      if (!branch) return error(404, "Not Found");
      return send(200, {
        ref: `refs/heads/${name}`,
        node_id: "REF_1",
        url: `${this.url}${prefix}/git/refs/heads/${name}`,
        object: { sha: branch.sha, type: "commit", url: `${this.url}${prefix}/git/commits/${branch.sha}` },
      });
    }
    if (rest === "/git/refs" && req.method === "POST") {
      const ref = String(body.ref ?? "");
      const from = [...this.branches.values()].find((b) => b.sha === body.sha);
      if (!ref.startsWith("refs/heads/") || !from) return error(422, "Reference update failed");
      const name = ref.slice("refs/heads/".length);
      if (this.branches.has(name)) return error(422, "Reference already exists");
      this.branches.set(name, { sha: from.sha, files: new Map(from.files) });
      return send(201, {
        ref,
        node_id: "REF_2",
        url: `${this.url}${prefix}/git/${ref}`,
        object: { sha: from.sha, type: "commit" },
      });
    }
    m = /^\/contents\/(.+)$/.exec(rest);
    if (m) {
      const path = m[1]!.split("/").map(decodeURIComponent).join("/");
      if (req.method === "GET") {
        const branch = this.branches.get(url.searchParams.get("ref") ?? "main");
        const file = branch?.files.get(path);
        if (!file) return error(404, "Not Found");
        return send(200, {
          type: "file",
          encoding: "base64",
          size: file.content.length,
          name: path.split("/").at(-1),
          path,
          content: Buffer.from(file.content).toString("base64"),
          sha: file.sha,
        });
      }
      if (req.method === "PUT") {
        const branch = this.branches.get(String(body.branch ?? "main"));
        if (!branch) return error(404, "Branch not found");
        if (typeof body.message !== "string" || typeof body.content !== "string")
          return error(422, 'Invalid request.\n\n"message" and "content" are required.');
        const existing = branch.files.get(path);
        if (existing && body.sha === undefined)
          return error(422, 'Invalid request.\n\n"sha" wasn\'t supplied.');
        if (existing && body.sha !== existing.sha)
          return error(409, `${path} does not match ${String(body.sha)}`);
        const content = Buffer.from(body.content, "base64").toString("utf8");
        const file = { content, sha: sha1(content) };
        branch.files.set(path, file);
        branch.sha = sha1(`${branch.sha}${file.sha}`);
        return send(existing ? 200 : 201, {
          content: { name: path.split("/").at(-1), path, sha: file.sha, type: "file" },
          commit: { sha: branch.sha, message: body.message },
        });
      }
    }
    if (rest === "/pulls" && req.method === "POST") {
      const head = String(body.head ?? "");
      const base = String(body.base ?? "");
      if (!this.branches.has(head) || !this.branches.has(base)) return error(422, "Validation Failed");
      const pull: PullRequest = {
        number: this.pulls.length + 1,
        title: String(body.title ?? ""),
        head,
        base,
        body: String(body.body ?? ""),
      };
      this.pulls.push(pull);
      return send(201, {
        number: pull.number,
        state: "open",
        title: pull.title,
        body: pull.body,
        html_url: `https://github.example/${this.repo}/pull/${pull.number}`,
        url: `${this.url}${prefix}/pulls/${pull.number}`,
        head: { ref: head },
        base: { ref: base },
      });
    }
    return error(404, "Not Found");
  }
}
