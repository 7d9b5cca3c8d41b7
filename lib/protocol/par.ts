// RFC 9126 Pushed Authorization Requests: the authorization parameters travel in an authenticated
// back-channel POST; the browser is sent to the AS with `client_id` and `request_uri` only.
import type { FetchLike } from '../config/options.js';
import { NetworkError, OAUTH_CODES, TimeoutError, TokenEndpointError } from '../errors.js';
import { authorizationRequestParams, buildAuthorizationUrl, withQuery, type AuthorizeRequest } from './authorize-url.js';
import { BODY_LIMITS, readBoundedText } from './bounded-body.js';
import { authenticateFormRequest, type ClientAuthentication } from './client-assertion.js';
import { requestObjectParams, type RequestObjectSigner } from './request-object.js';
import { errorFromBody, parseTokenBody } from './token-endpoint-errors.js';

const ENDPOINT = 'pushed authorization request endpoint';
const MAX_REQUEST_URI_CHARS = 2048;

/** Where and how to push one provider's authorization requests. */
export interface PushedAuthorizationTarget {
  /** The AS's `pushed_authorization_request_endpoint`. */
  url: string;
  client: ClientAuthentication;
  fetch: FetchLike;
  timeoutMs: number;
  /** JAR (RFC 9101): sign the parameters as a request object and push that instead. */
  requestObject?: RequestObjectSigner | undefined;
}

/** RFC 9126 §2.2 success response. */
export interface PushedAuthorizationResponse {
  requestUri: string;
  expiresIn: number;
}

function invalidAnswer(httpStatus: number): TokenEndpointError {
  return new TokenEndpointError(`The ${ENDPOINT} answered HTTP ${httpStatus} without a usable request_uri.`, { status: 502, code: OAUTH_CODES.INVALID_TOKEN_RESPONSE });
}

/**
 * POST the authorization request parameters to the PAR endpoint (RFC 9126 §2.1), authenticated like
 * the token endpoint, through the one outbound transport. Errors never quote what was sent:
 * an OAuth error body → `TokenEndpointError` (502; `invalid_client` 500), timeout → 504,
 * unreachable → 502.
 */
export async function pushAuthorizationRequest(target: PushedAuthorizationTarget, params: URLSearchParams): Promise<PushedAuthorizationResponse> {
  const body = new URLSearchParams(params);
  const headers = new Headers({ ...target.client.headers, 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8', accept: 'application/json' });
  const credentials = await authenticateFormRequest(target.client, body, headers);
  let res: Response;
  let text: string;
  try {
    res = await target.fetch(target.url, { method: 'POST', headers, body: body.toString(), redirect: 'manual', signal: AbortSignal.timeout(target.timeoutMs) });
    // A PAR answer is two short fields: a body over 16 KiB is cancelled at the cap, never read whole.
    text = await readBoundedText(res, BODY_LIMITS.par, ENDPOINT, () => invalidAnswer(res.status));
  } catch (err) {
    if (err instanceof TokenEndpointError) throw err;
    if ((err as Error)?.name === 'TimeoutError') throw new TimeoutError(`The ${ENDPOINT} did not answer in time.`);
    throw new NetworkError(`The ${ENDPOINT} could not be reached.`);
  }
  const parsed = parseTokenBody(text);
  if (res.status !== 201 && res.status !== 200) throw errorFromBody(parsed, res.status, [...credentials, ...params.values()], undefined, ENDPOINT);
  const requestUri = parsed?.request_uri;
  const expiresIn = parsed?.expires_in;
  if (typeof requestUri !== 'string' || requestUri.length === 0 || requestUri.length > MAX_REQUEST_URI_CHARS) throw invalidAnswer(res.status);
  if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0) throw invalidAnswer(res.status);
  return { requestUri, expiresIn };
}

/**
 * Where to send the browser to log in: the plain authorization URL, or with `par` the URL that
 * carries only `client_id` and the `request_uri` the AS issued for the pushed parameters (RFC 9126 §4).
 */
export async function buildAuthorizationRedirect(req: AuthorizeRequest, par: PushedAuthorizationTarget | undefined): Promise<string> {
  if (!par) return buildAuthorizationUrl(req);
  const params = authorizationRequestParams(req);
  const { requestUri } = await pushAuthorizationRequest(par, par.requestObject ? await requestObjectParams(params, par.requestObject) : params);
  return withQuery(req.authorizationUrl, new URLSearchParams({ client_id: req.clientId, request_uri: requestUri }));
}
