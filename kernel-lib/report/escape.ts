/**
 * Escaping for HTML built from strings: text and attribute values, and data or code placed
 * inside a `<script>` element (where `</script` or `<!--` in a string would end or change it).
 */

/** Escapes `& < > " '` for use in HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * JavaScript source made safe to place inside `<script>…</script>`: `</script` and `<!--` are
 * written `<\/script` and `<\!--`, which mean the same inside JS strings and regular expressions.
 */
export function scriptSafe(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/**
 * `value` as a JavaScript expression (JSON) for a `<script>` element: every `<`, `>`, `&`, U+2028
 * and U+2029 is written as a `\u` escape, so no string in the data can close the element.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
