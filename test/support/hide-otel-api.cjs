// Preload (`node --require`): makes `@opentelemetry/api` unresolvable, as in an application that
// does not install the optional peer. Resolution fails the way Node fails it (MODULE_NOT_FOUND).
const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function hideOpenTelemetryApi(request, ...rest) {
  if (request === '@opentelemetry/api' || request.startsWith('@opentelemetry/api/')) {
    const err = new Error(`Cannot find module '${request}'`);
    err.code = 'MODULE_NOT_FOUND';
    throw err;
  }
  return resolve.call(this, request, ...rest);
};
