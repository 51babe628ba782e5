/**
 * Proposes the tuning rules file to the team's repository as a GitHub pull request, with GitHub's
 * REST API (`fetch`, no client library): the base branch's head (GET git/ref), a new branch from it
 * (POST git/refs), the file written on that branch (GET, then PUT contents with the existing file's
 * sha), and the pull request (POST pulls).
 */

export interface GitHubTarget {
  token: string;
  /** owner/name */
  repo: string;
  path: string;
  baseBranch: string;
  /** https://api.github.com, or a GitHub Enterprise server's `/api/v3`. */
  apiUrl: string;
}

export interface PullRequestDraft {
  branch: string;
  title: string;
  body: string;
  commitMessage: string;
  /** The whole file, as served at GET /tuning/falco-rules.yaml. */
  content: string;
}

/** GitHub answered with an error: its status and message, for the person and the log. */
export class GitHubError extends Error {
  constructor(
    readonly status: number,
    readonly step: string,
    readonly githubMessage: string,
  ) {
    super(`GitHub answered ${status} to ${step}: ${githubMessage}`);
    this.name = "GitHubError";
  }

  /** What the person who saved is told. */
  get advice(): string {
    if (this.status === 401) return "GitHub refused GITHUB_TOKEN (401): it is wrong or has expired.";
    if (this.status === 403)
      return "GitHub refused the request (403): GITHUB_TOKEN may lack the contents and pull requests write permissions on TUNING_REPO.";
    if (this.status === 404)
      return `GitHub found nothing (404) while trying to ${this.step}: check TUNING_REPO, TUNING_BASE_BRANCH, and that GITHUB_TOKEN can see the repository.`;
    if (this.status === 422) return `GitHub could not ${this.step} (422): ${this.githubMessage}`;
    return `GitHub answered ${this.status} while trying to ${this.step}: ${this.githubMessage}`;
  }
}

export class GitHubPullRequests {
  constructor(
    private readonly target: GitHubTarget,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  private url(path: string): string {
    return `${this.target.apiUrl.replace(/\/+$/, "")}/repos/${this.target.repo}${path}`;
  }

  private async call<T>(
    step: string,
    method: string,
    path: string,
    body?: unknown,
    allow404 = false,
  ): Promise<T | null> {
    const res = await this.fetchImpl(this.url(path), {
      method,
      headers: {
        authorization: `Bearer ${this.target.token}`,
        accept: "application/vnd.github+json",
        "x-github-api-version": "2022-11-28",
        "user-agent": "falco-chatops",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    if (res.status === 404 && allow404) return null;
    if (!res.ok) {
      let message = text.slice(0, 300);
      try {
        const json = JSON.parse(text) as { message?: string; errors?: { message?: string }[] };
        message = [json.message, ...(json.errors ?? []).map((e) => e.message)].filter(Boolean).join(": ");
      } catch {
        // not JSON: the text as it came
      }
      throw new GitHubError(res.status, step, message);
    }
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** Opens the pull request; its web address. Throws GitHubError when GitHub refuses a step. */
  async propose(draft: PullRequestDraft): Promise<{ url: string; number: number }> {
    const { baseBranch, path } = this.target;
    const filePath = path.split("/").map(encodeURIComponent).join("/");
    const base = await this.call<{ object: { sha: string } }>(
      `read the head of ${baseBranch}`,
      "GET",
      `/git/ref/heads/${encodeURIComponent(baseBranch)}`,
    );
    await this.call("create the branch", "POST", "/git/refs", {
      ref: `refs/heads/${draft.branch}`,
      sha: base!.object.sha,
    });
    const existing = await this.call<{ sha?: string }>(
      `read ${path}`,
      "GET",
      `/contents/${filePath}?ref=${encodeURIComponent(draft.branch)}`,
      undefined,
      true,
    );
    await this.call(`write ${path}`, "PUT", `/contents/${filePath}`, {
      message: draft.commitMessage,
      content: Buffer.from(draft.content, "utf8").toString("base64"),
      branch: draft.branch,
      ...(existing?.sha ? { sha: existing.sha } : {}),
    });
    const pull = await this.call<{ html_url: string; number: number }>(
      "open the pull request",
      "POST",
      "/pulls",
      { title: draft.title, head: draft.branch, base: baseBranch, body: draft.body },
    );
    return { url: pull!.html_url, number: pull!.number };
  }
}
