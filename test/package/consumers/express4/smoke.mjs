// ESM consumer on Express 4: `import` of the package.
import express from 'express';
import session from 'express-session';
import * as pkg from 'express-oauth2-session';
import { createRequire } from 'node:module';

const { runSmoke } = createRequire(import.meta.url)('./smoke-app.cjs');
console.log(JSON.stringify(await runSmoke(pkg, express, session)));
