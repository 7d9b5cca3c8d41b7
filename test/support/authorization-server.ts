// The project's own tests use the shipped test kit (express-oauth2-session/testing): a real
// oidc-provider in a child process. One per test file: start in beforeAll, stop in afterAll.
import { startTestProvider, type ProviderEndpoints, type ProviderRequest, type TestProvider, type TestProviderOptions } from 'express-oauth2-session/testing';

export type Endpoints = ProviderEndpoints;
export type AsRequest = ProviderRequest;
export type TestAuthorizationServer = TestProvider;
export type StartOptions = TestProviderOptions;

export function startAuthorizationServer(options: StartOptions = {}): Promise<TestAuthorizationServer> {
  return startTestProvider(options);
}
