/** Why a string cannot be stored in Postgres text (or JSON), or null when it can. */
export function textProblem(s: string): string | null {
  if (s.includes('\u0000')) return 'must not contain NUL (\\u0000) characters';
  if (!(s as unknown as { isWellFormed(): boolean }).isWellFormed()) return 'must be well-formed Unicode (no lone surrogates)';
  return null;
}

/**
 * The first string (key or value) in parsed JSON that Postgres could not store, as
 * `path problem` (e.g. `videos.0.title must not contain NUL ...`), or null. Postgres text
 * cannot hold U+0000 and its JSON parser refuses lone surrogates: caught here, such input
 * is a 400 naming the field instead of a failed query.
 */
export function findUnstorableText(value: unknown, path = ''): string | null {
  if (typeof value === 'string') {
    const problem = textProblem(value);
    return problem ? `${path || 'body'} ${problem}` : null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const entries: [string, unknown][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  for (const [key, v] of entries) {
    const at = path ? `${path}.${key}` : key;
    const keyProblem = textProblem(key);
    if (keyProblem) return `property name at ${path || 'body'} ${keyProblem}`;
    const found = findUnstorableText(v, at);
    if (found) return found;
  }
  return null;
}
