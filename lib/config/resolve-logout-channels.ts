// The logout channels a provider can call (OIDC Back-Channel and Front-Channel Logout 1.0): each
// option is `true` or an object with its `path`, and mounts its route only beside a provider whose
// `issuer` is known.
import { assertOptionalBoolean, assertPath, type OptionPath } from './assert.js';
import { assertKnownKeys, BACKCHANNEL_LOGOUT_KEYS, FRONTCHANNEL_LOGOUT_KEYS } from './option-keys.js';
import type { ResolvedProvider } from './resolved.js';

interface Channel {
  option: string;
  keys: readonly string[];
  shape: string;
  defaultPath: string;
  /** Why the route needs a provider with `issuer`. */
  needsIssuer: string;
}

/** The channel's options object (`{}` for `true`) and its path, or undefined when it is off. */
function resolveChannel(value: unknown, at: OptionPath, providers: ReadonlyMap<string, ResolvedProvider>, channel: Channel): { path: string; options: Record<string, unknown> } | undefined {
  if (value === undefined || value === false) return undefined;
  let options: Record<string, unknown> = {};
  let path: string | undefined;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    assertKnownKeys(value, channel.keys, at);
    options = value as Record<string, unknown>;
    const given = assertPath(options.path, at.key('path'));
    if (given === false) throw at.key('path').error(`must be a path starting with "/"; set \`${channel.option}: false\` to turn the route off`);
    path = given;
  } else if (value !== true) throw at.error(`must be true, false or ${channel.shape}`);
  if (![...providers.values()].some((p) => p.issuer)) throw at.error(`needs a provider with \`issuer\` (${channel.needsIssuer})`);
  return { path: path ?? channel.defaultPath, options };
}

/** `backchannelLogout`: `true` or `{ path, endSession }`; the logout token is verified against the provider's keys. */
export function resolveBackchannelLogout(value: unknown, at: OptionPath, providers: ReadonlyMap<string, ResolvedProvider>): { path: string | false; endSession: boolean } {
  const channel = resolveChannel(value, at, providers, {
    option: 'backchannelLogout',
    keys: BACKCHANNEL_LOGOUT_KEYS,
    shape: '{ path, endSession }',
    defaultPath: '/backchannel-logout',
    needsIssuer: 'the logout token is verified against its signing keys',
  });
  if (!channel) return { path: false, endSession: false };
  const endSession = channel.options.endSession as boolean | undefined;
  assertOptionalBoolean(endSession, at.key('endSession'));
  return { path: channel.path, endSession: endSession ?? false };
}

/** `frontchannelLogout`: `true` or `{ path }`; the `iss` the provider sends is checked against its issuer. */
export function resolveFrontchannelLogout(value: unknown, at: OptionPath, providers: ReadonlyMap<string, ResolvedProvider>): string | false {
  const channel = resolveChannel(value, at, providers, {
    option: 'frontchannelLogout',
    keys: FRONTCHANNEL_LOGOUT_KEYS,
    shape: '{ path }',
    defaultPath: '/frontchannel-logout',
    needsIssuer: 'the `iss` the provider sends is checked against it',
  });
  return channel?.path ?? false;
}
