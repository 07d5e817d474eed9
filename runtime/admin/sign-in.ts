/**
 * The dashboard's sign-in, for a browser without the cookie (auth.ts): a
 * form that posts the token to /signin, and `/?token=` for a link. Right,
 * the browser gets the cookie and is sent to `/` (303: it asks with GET and
 * the token leaves the address bar); wrong or missing, the form again, 401.
 */
import type { AdminAuth } from './auth.js';
import { sameOrigin } from './auth.js';
import { DASHBOARD_CSP } from '../dashboard/static.js';
import type { Asked, Reply } from './server.js';

export const HTML = 'text/html; charset=utf-8';


const page = (wrong: boolean): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><title>shoal: sign in</title></head>
<body><main>
<h1>shoal</h1>
<form method="post" action="/signin">
<p><label for="token">Admin token (--admin-token)</label></p>
<p><input id="token" name="token" type="password" autocomplete="current-password" required autofocus></p>
${wrong ? '<p role="alert"><strong>Wrong token.</strong></p>\n' : ''}<p><button type="submit">Sign in</button></p>
</form>
</main></body></html>
`;

export function signInRoute(auth: AdminAuth, path: string, method: string, asked: Asked): Reply {
  if (path === '/signin' && method !== 'POST') return { status: 405, type: 'text/plain; charset=utf-8', body: `method ${method} not allowed: POST\n`, headers: { allow: 'POST' } };
  const given = path === '/signin' ? new URLSearchParams(asked.body).get('token') : asked.query.get('token');
  if (given !== null && (path !== '/signin' || sameOrigin(asked.headers)) && auth.isToken(given)) {
    return { status: 303, type: 'text/plain; charset=utf-8', body: 'signed in\n', headers: { location: '/', 'set-cookie': auth.setCookie() } };
  }
  return { status: 401, type: HTML, body: page(given !== null), headers: { 'www-authenticate': 'Bearer realm="shoal"', 'content-security-policy': DASHBOARD_CSP } };
}
