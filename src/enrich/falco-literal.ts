/**
 * Alert values written into Falco rules (exception values, list items, macro conditions) as one
 * string literal of Falco's condition language, or withheld with the reason.
 *
 * Why it takes care: Falco's rule loader builds an exception's condition by concatenating field,
 * operator and value, wrapping a value in double quotes only when it contains a space and does not
 * already start with a quote, and escaping nothing (falcosecurity/falco, rule_loader_compiler.cpp,
 * `quote_item`). It then replaces every loaded list's name by the list's items wherever the name
 * stands between delimiters, inside string literals too (`resolve_list`). A value therefore reaches
 * the condition as written in the YAML: we write it as a complete double-quoted literal, so that
 * `quote_item` leaves it alone and the parser reads exactly one string.
 */

/** Characters around which `resolve_list` substitutes a list's name (its `delims`). */
const LIST_DELIMITERS = " \t\n\r(),=";

/** Escapes libsinsp's condition lexer turns back into the character (`unescape_str`). */
const ESCAPES: Record<string, string> = {
  "\\": "\\\\",
  '"': '\\"',
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\b": "\\b",
  "\f": "\\f",
};

/** Characters a YAML file cannot carry as they are, or that readers display misleadingly. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\u2028\u2029]/u;

/** libsinsp keeps a string value in a 256-byte buffer with its terminating NUL ("filter parameter too long"). */
const MAX_VALUE_BYTES = 255;

export type FalcoLiteral = { literal: string } | { withheld: string };

/** A token of the value enclosed by list delimiters on both sides, once written as a literal. */
function delimitedWord(encoded: string): string | null {
  let start = -1;
  for (let i = 0; i < encoded.length; i++) {
    if (!LIST_DELIMITERS.includes(encoded[i]!)) continue;
    if (start >= 0 && i > start + 1) return encoded.slice(start + 1, i);
    start = i;
  }
  return null;
}

/** The value between double quotes with libsinsp's escapes, before any check of whether that is safe. */
export function encodeFalcoString(value: string): string {
  return `"${value.replace(/[\\"\n\r\t\b\f]/g, (c) => ESCAPES[c]!)}"`;
}

/**
 * The value as a Falco double-quoted string literal (`"…"`, with `\\`, `\"`, `\n`, `\r`, `\t`, `\b`,
 * `\f` escaped), or the reason it cannot be written as one that every Falco release reads the same.
 */
export function falcoStringLiteral(value: string): FalcoLiteral {
  if (value.includes("'"))
    return {
      withheld:
        "it contains a single quote, which some releases of Falco's filter compiler read as the end of the string",
    };
  if (Buffer.byteLength(value, "utf8") > MAX_VALUE_BYTES)
    return {
      withheld: `it is longer than ${MAX_VALUE_BYTES} bytes, more than libsinsp's filter compiler accepts as one value in some releases`,
    };
  if (value.endsWith("\\"))
    return {
      withheld: "it ends with a backslash, which Falco's condition lexer reads as escaping the closing quote",
    };
  const stripped = value.replace(/[\n\r\t\b\f]/g, "");
  if (INVISIBLE.test(stripped))
    return {
      withheld: "it contains control or invisible characters that a rules file cannot show faithfully",
    };
  const literal = encodeFalcoString(value);
  const word = delimitedWord(literal.slice(1, -1));
  if (word !== null)
    return {
      withheld:
        `it contains a word ("${word.length > 40 ? `${word.slice(0, 40)}…` : word}") between spaces, commas, ` +
        "parentheses or `=`, which Falco's loader would replace with a list's items, inside the string, " +
        "wherever a list of that name is loaded",
    };
  return { literal };
}

/**
 * The literal as a YAML scalar (single-quoted, `'` doubled) whose value is the literal itself, so
 * that Falco's YAML reader hands the quotes on to `quote_item`, which then leaves the value alone.
 */
export function yamlScalarOf(literal: string): string {
  return `'${literal.replaceAll("'", "''")}'`;
}
