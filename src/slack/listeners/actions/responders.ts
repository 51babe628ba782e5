import type { WebClient } from "@slack/web-api";

/** The private answer to someone SLACK_ALLOWED_RESPONDERS does not list; `what` is e.g. "resolve alerts". */
export function notAResponder(what: string): string {
  return `Only the responders this bot is configured with (SLACK_ALLOWED_RESPONDERS) can ${what}. Ask one of them, or your Slack admin.`;
}

/** How long a user group's member list is trusted before it is asked for again. */
const GROUP_CACHE_MS = 5 * 60 * 1000;

/**
 * Who may act on alerts: SLACK_ALLOWED_RESPONDERS lists user ids (U…, W…) and user group
 * ids (S…, members read with usergroups.users.list, which needs the usergroups:read scope). An empty
 * list allows everyone who can see the message. If a group cannot be read, its members are refused:
 * failing closed is the point of the setting.
 */
export class ResponderPolicy {
  private readonly users: Set<string>;
  private readonly groups: string[];
  private readonly cache = new Map<string, { members: Set<string>; until: number }>();

  constructor(allowed: string[]) {
    this.users = new Set(allowed.filter((id) => !id.startsWith("S")));
    this.groups = allowed.filter((id) => id.startsWith("S"));
  }

  get restricted(): boolean {
    return this.users.size > 0 || this.groups.length > 0;
  }

  async allows(client: WebClient, userId: string): Promise<boolean> {
    if (!this.restricted || this.users.has(userId)) return true;
    for (const group of this.groups) if ((await this.members(client, group)).has(userId)) return true;
    return false;
  }

  private async members(client: WebClient, group: string): Promise<Set<string>> {
    const cached = this.cache.get(group);
    if (cached && cached.until > Date.now()) return cached.members;
    try {
      const result = await client.usergroups.users.list({ usergroup: group });
      const members = new Set(result.users ?? []);
      this.cache.set(group, { members, until: Date.now() + GROUP_CACHE_MS });
      return members;
    } catch {
      return new Set();
    }
  }
}
