import { isInteger, isSafeNumber, parse, stringify } from "lossless-json";

/**
 * Falco writes 19-digit nanosecond integers (`evt.time`, `container.start_ts`) and even unsigned
 * 64-bit values; `JSON.parse` silently rounds them. Integers that do not fit a double stay exact as
 * bigint; every other number is a plain number.
 */
function parseNumber(text: string): number | bigint {
  if (isSafeNumber(text)) return Number(text);
  if (isInteger(text)) return BigInt(text);
  return Number(text);
}

export function parseJsonLossless(text: string): unknown {
  return parse(text, null, parseNumber);
}

/** JSON text with bigints written as exact integers. */
export function stringifyLossless(value: unknown, space?: number): string {
  const text = stringify(value, null, space);
  if (text === undefined) throw new TypeError("value cannot be represented as JSON");
  return text;
}

/**
 * Some Falco versions wrote an empty value for a missing number (`"evt.time":,` or `"user.uid":}`),
 * which is not JSON. Insert `null` there, and only there: every other byte, inside strings included,
 * is kept. Returns null when there was nothing of that kind to repair.
 */
export function repairEmptyValues(text: string): string | null {
  let out = "";
  let inString = false;
  let escaped = false;
  let changed = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    out += ch;
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === "\\") escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') {
      inString = true;
    } else if (ch === ":") {
      let j = i + 1;
      while (j < text.length && /\s/.test(text[j] as string)) j++;
      if (text[j] === "," || text[j] === "}") {
        out += "null";
        changed = true;
      }
    }
  }
  return changed ? out : null;
}
