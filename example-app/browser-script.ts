// The example app's only browser script, served as /assets/app.js (no inline script: the pages'
// Content-Security-Policy allows scripts from the app's own origin only). It moves every countdown
// and runs the "Call the API" button.

export const BROWSER_SCRIPT = `'use strict';
(function () {
  // Countdowns: <span data-countdown-ms="12345" [data-at-zero="reload"]>. Measured on the page's own
  // clock from when it loaded, so a wrong clock on the user's computer does not matter.
  var start = performance.now();
  var clocks = Array.prototype.slice.call(document.querySelectorAll('[data-countdown-ms]'));
  function tick() {
    var pending = false;
    clocks.forEach(function (el) {
      var left = Math.ceil((Number(el.getAttribute('data-countdown-ms')) - (performance.now() - start)) / 1000);
      if (left > 0) { el.textContent = left + ' s'; pending = true; return; }
      if (el.textContent === 'now') return;
      el.textContent = 'now';
      if (el.getAttribute('data-at-zero') === 'reload') setTimeout(function () { location.reload(); }, 500);
    });
    if (pending) setTimeout(tick, 250);
  }
  if (clocks.length) tick();

  // "Call the API": the server makes the call with the user's token and reports what went out and
  // what came back (the token itself never reaches the browser).
  var button = document.getElementById('call-api');
  var out = document.getElementById('api-call-result');
  if (button && out) {
    button.addEventListener('click', function () {
      button.disabled = true;
      out.textContent = 'Calling…';
      fetch(button.getAttribute('data-endpoint'), { method: 'POST', headers: { accept: 'application/json' } })
        .then(function (res) { return res.json().then(function (body) { return { status: res.status, body: body }; }); })
        .then(function (r) {
          out.textContent = r.status === 200 ? JSON.stringify(r.body, null, 2) : 'The app answered HTTP ' + r.status + ': ' + JSON.stringify(r.body);
        })
        .catch(function (err) { out.textContent = 'The call failed: ' + err.message; })
        .then(function () { button.disabled = false; });
    });
  }
})();
`;
