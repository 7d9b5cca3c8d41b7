const PROBE_ORIGIN = 'http://same-origin.invalid';

/**
 * A same-origin path to redirect to, or `fallback`. Rejects absolute and protocol-relative URLs,
 * backslashes (browsers read `/\evil` as `//evil`), control characters and whitespace (browsers
 * strip tabs and newlines, turning `/\t/evil` into `//evil`), and anything that resolves off-origin.
 */
export function safeReturnTo(value: unknown, fallback: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) return fallback;
  if (!value.startsWith('/') || value.startsWith('//')) return fallback;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\\\s\x00-\x1f\x7f]/.test(value)) return fallback;
  let url: URL;
  try {
    url = new URL(value, PROBE_ORIGIN);
  } catch {
    return fallback;
  }
  if (url.origin !== PROBE_ORIGIN) return fallback;
  const path = `${url.pathname}${url.search}${url.hash}`;
  return path.startsWith('//') ? fallback : path;
}

/** The one query value of `name` when it appears exactly once, else undefined. */
export function singleParam(params: URLSearchParams, name: string): string | undefined {
  const all = params.getAll(name);
  return all.length === 1 ? all[0] : undefined;
}

/** Query parameters of the raw URL, independent of Express's query parser (qs vs simple). */
export function rawQuery(url: string): URLSearchParams {
  const i = url.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : url.slice(i + 1));
}
