import { createHash, timingSafeEqual } from "node:crypto";
import type { Request } from "express";

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Constant-time comparison of a presented token with the configured one. */
export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/**
 * The token a request presents: `Authorization: Bearer <token>`, or `?token=<token>` because Falco's
 * http_output cannot send headers.
 */
export function presentedToken(req: Request): string | null {
  const header = req.get("authorization");
  if (header) {
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    return match ? match[1]!.trim() : null;
  }
  const query = req.query.token;
  return typeof query === "string" ? query : null;
}
