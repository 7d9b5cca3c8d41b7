// Multi-tenant issuers (Microsoft Entra ID's `common` and `organizations` endpoints): the provider's
// discovery document names an issuer template such as
// `https://login.microsoftonline.com/{tenantid}/v2.0`, and each ID token's `iss` is that template
// with the user's tenant (its `tid` claim) in place of `{tenantid}`.
import { assertHttpUrl, type OptionPath } from './assert.js';

/** The placeholder an issuer template holds exactly once. */
export const TENANT_PLACEHOLDER = '{tenantid}';
/** A tenant id as it may stand in an issuer: a GUID or a similar token (no `/`, `.`, `%`, `?`, `#`). */
const TENANT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Whether `issuer` is a template (holds `{tenantid}`). */
export function isIssuerTemplate(issuer: string | undefined): issuer is string {
  return issuer !== undefined && issuer.includes(TENANT_PLACEHOLDER);
}

/** Whether `tid` can stand in an issuer (and so name a tenant). */
export function isTenantId(tid: unknown): tid is string {
  return typeof tid === 'string' && TENANT_ID.test(tid);
}

/** The issuer of tenant `tid` under `template`. */
export function tenantIssuer(template: string, tid: string): string {
  return template.replace(TENANT_PLACEHOLDER, tid);
}

/**
 * The tenant `issuer` names under `template` (undefined when it is not an instance of it), or the
 * configured issuer itself when it is no template: then only the exact issuer matches.
 */
export function tenantOf(template: string, issuer: string): string | undefined {
  const at = template.indexOf(TENANT_PLACEHOLDER);
  if (at < 0) return undefined;
  const prefix = template.slice(0, at);
  const suffix = template.slice(at + TENANT_PLACEHOLDER.length);
  if (!issuer.startsWith(prefix) || !issuer.endsWith(suffix) || issuer.length <= prefix.length + suffix.length) return undefined;
  const tid = issuer.slice(prefix.length, issuer.length - suffix.length);
  return isTenantId(tid) ? tid : undefined;
}

/** Whether `value` is the configured issuer, or, for a template, the issuer of some tenant. */
export function matchesIssuer(configured: string, value: string): boolean {
  return isIssuerTemplate(configured) ? tenantOf(configured, value) !== undefined : value === configured;
}

/** What `resolveTenancy` checks of a provider's options. */
interface TenancyInput {
  issuer?: string;
  discoveryUrl?: unknown;
  allowedTenants?: unknown;
  authorizationUrl?: string;
  tokenUrl?: string;
  jwksUri?: string;
  pushedAuthorizationRequests?: boolean;
  tokenEndpointAuthMethod?: string;
}

/**
 * `issuer` as a template, `discoveryUrl` and `allowedTenants`, checked together: a template holds
 * `{tenantid}` once, in its path; its discovery document cannot live under it, so it needs
 * `discoveryUrl` (or every endpoint configured, without PAR); `allowedTenants` needs a template.
 */
export function resolveTenancy(input: TenancyInput, at: OptionPath): { discoveryUrl: string | undefined; allowedTenants: ReadonlySet<string> | undefined } {
  const { issuer } = input;
  assertHttpUrl(input.discoveryUrl, at.key('discoveryUrl'));
  const discoveryUrl = input.discoveryUrl as string | undefined;
  if (discoveryUrl !== undefined && issuer === undefined) throw at.key('discoveryUrl').error('needs `issuer` (the discovery document must name it)');
  if (isIssuerTemplate(issuer)) {
    if (issuer.split(TENANT_PLACEHOLDER).length !== 2) throw at.key('issuer').error(`must hold ${TENANT_PLACEHOLDER} once`);
    if (new URL(issuer).origin.includes('{') || new URL(issuer).origin.includes('%7B')) throw at.key('issuer').error(`must hold ${TENANT_PLACEHOLDER} in its path, not its host`);
    const configured = input.authorizationUrl && input.tokenUrl && input.jwksUri && !input.pushedAuthorizationRequests;
    if (discoveryUrl === undefined && !configured) {
      throw at.key('discoveryUrl').error(`is required with an issuer template (${TENANT_PLACEHOLDER}): its discovery document is not under the issuer`);
    }
    if (input.tokenEndpointAuthMethod?.endsWith('_jwt') && !input.tokenUrl) {
      throw at.key('tokenUrl').error(`is required with an issuer template and ${input.tokenEndpointAuthMethod}: it is the client assertion's audience`);
    }
  }
  if (input.allowedTenants === undefined) return { discoveryUrl, allowedTenants: undefined };
  const tenantsAt = at.key('allowedTenants');
  if (!isIssuerTemplate(issuer)) throw tenantsAt.error(`needs an \`issuer\` template holding ${TENANT_PLACEHOLDER}`);
  if (!Array.isArray(input.allowedTenants) || input.allowedTenants.length === 0) throw tenantsAt.error('must be a non-empty array of tenant ids');
  input.allowedTenants.forEach((tid: unknown, i: number) => {
    if (!isTenantId(tid)) throw tenantsAt.key(i).error('must be a tenant id (letters, digits, "-" or "_", as in the `tid` claim)');
  });
  return { discoveryUrl, allowedTenants: new Set(input.allowedTenants as string[]) };
}
