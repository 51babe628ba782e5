import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Constant-time comparison of a presented token with the configured one. */
export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/**
 * The token a request presents: `Authorization: Bearer <token>`, or `?token=<token>` because Falco's
 * http_output cannot send headers. A token given twice in the query counts as none.
 */
function presentedToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    return match ? match[1]!.trim() : null;
  }
  const url = req.url ?? "";
  const q = url.indexOf("?");
  if (q < 0) return null;
  const tokens = new URLSearchParams(url.slice(q + 1)).getAll("token");
  return tokens.length === 1 ? tokens[0]! : null;
}

/** The challenge sent with every 401. */
export const AUTH_CHALLENGE = 'Bearer realm="falco-chatops"';

/**
 * Why a request may not pass, or null when it may: no token is configured, or it presents the
 * right one. One check for POST /falco and the Express routes, so both answer alike.
 */
export function tokenProblem(req: IncomingMessage, expected: string | undefined): string | null {
  if (!expected) return null;
  const token = presentedToken(req);
  if (token === null)
    return "missing token: send Authorization: Bearer <INGEST_TOKEN>, or add ?token=<INGEST_TOKEN> to the URL";
  return tokenMatches(token, expected) ? null : "wrong token: it does not match INGEST_TOKEN";
}
