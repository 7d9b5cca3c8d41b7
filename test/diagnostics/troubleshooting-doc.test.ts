import { readFileSync } from 'node:fs';
import path from 'node:path';
import { OAUTH_CODES } from 'express-oauth2-session';
import { WARNING_CODES } from '../../lib/diagnostics';

// docs/troubleshooting.md explains every message: each warning code and each error code has its
// own heading, which is the anchor the development error page points to (#<code in lower case>).
const doc = readFileSync(path.join(__dirname, '..', '..', 'docs', 'troubleshooting.md'), 'utf8');
const anchors = new Set(
  [...doc.matchAll(/^#{2,3} (.+)$/gm)].map((m) =>
    m[1]!
      .toLowerCase()
      .replace(/[^\w\- ]/g, '')
      .replace(/ /g, '-'),
  ),
);

describe('docs/troubleshooting.md', () => {
  it.each(Object.values(WARNING_CODES).filter((c) => c !== WARNING_CODES.PROVIDER_FAILURE))('should have a section for warning %s', (code) => {
    expect(anchors.has(code.toLowerCase())).toBe(true);
  });

  it('should explain provider failures in a section named for the code', () => {
    expect(anchors.has('failures-talking-to-the-provider-oauth_provider_failure')).toBe(true);
  });

  it.each(Object.values(OAUTH_CODES))('should have a section for error %s', (code) => {
    expect(anchors.has(code.toLowerCase())).toBe(true);
  });

  it('should only link to anchors it has', () => {
    const links = [...doc.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
    expect(links.filter((a) => !anchors.has(a!))).toEqual([]);
  });
});
