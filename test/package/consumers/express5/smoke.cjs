// CommonJS consumer on Express 5: `require` of the package.
const { runSmoke } = require('./smoke-app.cjs');

runSmoke(require('express-oauth2-session'), require('express'), require('express-session')).then((result) => console.log(JSON.stringify(result)));
