// The OAuth2 identity provider of buzon's loopback test stack: the npm
// package oauth2-mock-server (it signs real JWTs with its own keys and runs
// the client-credentials and refresh-token grants), made to behave like
// Microsoft's and Google's token endpoints through its hooks:
//
// - clients are checked: an unknown client or a wrong secret gets
//   401 `invalid_client` (the mock itself accepts anyone);
// - refresh tokens are one-use and rotate: each refresh answers a new one and
//   the old one gets 400 `invalid_grant` from then on (the mock accepts any);
// - token lifetimes per client, changed at run time (short ones test expiry);
// - each access token names the mailbox it is for (`email` claim), and
//   `GET /userinfo` with `Authorization: Bearer` is the introspection Dovecot
//   asks (`introspection_mode = auth`): 200 with `email` and `active` for a
//   live token, active=false for an expired, revoked or unknown one (the mock's own
//   /introspect takes JSON bodies only, which Dovecot cannot send);
// - the device-code grant (RFC 8628), which the mock lacks, is answered
//   here: `POST /devicecode`, then the token endpoint says
//   `authorization_pending` until a test approves the user code.
//
// Test control (loopback only): `POST /admin/client` (JSON {id, secret,
// user, lifetime}), `POST /admin/lifetime` ({id, lifetime}), `POST
// /admin/refresh-token` ({id}) → {refresh_token}, `POST /admin/revoke`
// (every access token), `POST /admin/fail` ({count, status}: the next
// token requests fail like an overloaded server), `POST /admin/approve`
// ({user_code}), `POST /admin/deny` ({user_code, error}), `POST
// /admin/expire` ({user_code}), `GET /admin/stats`.
//
//   node idp.mjs PORT CLIENTS.json     (prints "listening" when ready)
//
// CLIENTS.json: {"clients": {"<id>": {"secret": "…", "user": "ops@cli.test",
// "lifetime": 3600}}}. Every request is logged (grant, client, outcome; never
// a token) on stdout.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { randomUUID, randomInt } from 'node:crypto';
import { OAuth2Issuer, OAuth2Service } from 'oauth2-mock-server';

const port = Number(process.argv[2] ?? 18080);
const clientsFile = process.argv[3];
const clients = new Map();
if (clientsFile) {
  const conf = JSON.parse(readFileSync(clientsFile, 'utf8'));
  for (const [id, c] of Object.entries(conf.clients ?? {})) clients.set(id, { lifetime: 3600, ...c });
}
/** access token → {client, user, exp (s)} */
const accessTokens = new Map();
/** refresh token → client id (deleted when used: one use each) */
const refreshTokens = new Map();
/** device_code → {client, user_code, approved, exp} */
const deviceCodes = new Map();
const stats = { token: {}, refused: {}, introspect_ok: 0, introspect_refused: 0, refresh_reused: 0 };
let failNext = { count: 0, status: 503 };

const log = (...a) => console.log(new Date().toISOString(), ...a);
const now = () => Math.floor(Date.now() / 1000);
const count = (o, k) => { o[k] = (o[k] ?? 0) + 1; };

const issuer = new OAuth2Issuer();
issuer.url = `http://127.0.0.1:${port}`;
await issuer.keys.generate('RS256');
const service = new OAuth2Service(issuer);

/** The client of a token request: HTTP Basic or the form's client_id/client_secret. */
function clientOf(req) {
  const h = req.headers.authorization ?? '';
  if (h.startsWith('Basic ')) {
    const plain = Buffer.from(h.slice(6), 'base64').toString('utf8');
    const i = plain.indexOf(':');
    const dec = (s) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: dec(plain.slice(0, i)), secret: dec(plain.slice(i + 1)) };
  }
  return { id: req.body?.client_id, secret: req.body?.client_secret };
}

function checkClient(req) {
  const { id, secret } = clientOf(req);
  const c = clients.get(id);
  if (!c || c.secret !== secret) {
    return { error: { error: 'invalid_client', error_description: `AADSTS7000215: Invalid client secret provided for client '${id}'.` } };
  }
  return { id, c };
}

service.on('beforeTokenSigning', (token, req) => {
  const c = clients.get(clientOf(req).id);
  if (!c) return;
  token.payload.exp = now() + c.lifetime;
  token.payload.email = c.user;
  token.payload.client_id = clientOf(req).id;
  token.payload.jti = randomUUID(); // two tokens of one second differ
});

service.on('beforeResponse', (resp, req) => {
  const grant = req.body.grant_type;
  const refuse = (status, body) => {
    resp.statusCode = status;
    resp.body = body;
    count(stats.refused, body.error);
    log('token', grant, clientOf(req).id, 'refused', body.error);
  };
  const who = checkClient(req);
  if (who.error) return refuse(401, who.error);
  if (grant === 'refresh_token') {
    const old = req.body.refresh_token;
    if (refreshTokens.get(old) !== who.id) {
      if (old) stats.refresh_reused += 1;
      return refuse(400, { error: 'invalid_grant', error_description: 'AADSTS70008: The refresh token has expired or was already used.' });
    }
    refreshTokens.delete(old); // one use
  } else if (grant !== 'client_credentials') {
    return refuse(400, { error: 'unsupported_grant_type', error_description: `grant ${grant} is not enabled for this client` });
  }
  delete resp.body.id_token;
  resp.body.expires_in = who.c.lifetime;
  if (grant === 'refresh_token') {
    resp.body.refresh_token = randomUUID();
    refreshTokens.set(resp.body.refresh_token, who.id);
  }
  accessTokens.set(resp.body.access_token, { client: who.id, user: who.c.user, exp: now() + who.c.lifetime });
  count(stats.token, grant);
  log('token', grant, who.id, 'issued, lifetime', who.c.lifetime);
});

service.on('beforeUserinfo', (resp, req) => {
  const h = req.headers.authorization ?? '';
  const t = accessTokens.get(h.startsWith('Bearer ') ? h.slice(7) : '');
  // Dovecot treats an answer without the username as a temporary failure
  // ("Introspection failed: No username returned"), and an inactive token
  // as a refused one: a dead token is answered 200 with active=false, like
  // an RFC 7662 introspection endpoint does.
  if (!t || t.exp <= now() || t.revoked) {
    const why = !t ? 'unknown token' : t.revoked ? 'revoked token' : 'expired token';
    resp.body = { sub: t?.client ?? 'unknown', email: t?.user ?? 'unknown', active: 'false' };
    stats.introspect_refused += 1;
    log('introspect refused:', why);
    return;
  }
  resp.body = { sub: t.client, email: t.user, active: 'true', exp: t.exp };
  stats.introspect_ok += 1;
  log('introspect ok', t.user);
});

function readBody(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { data += d; });
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

async function admin(req, res, path) {
  const text = await readBody(req);
  const b = text ? JSON.parse(text) : {};
  switch (path) {
    case '/admin/client':
      clients.set(b.id, { lifetime: 3600, ...clients.get(b.id), ...b });
      return send(res, 200, { ok: true });
    case '/admin/lifetime':
      if (!clients.has(b.id)) return send(res, 404, { error: 'no such client' });
      clients.get(b.id).lifetime = b.lifetime;
      log('admin lifetime', b.id, b.lifetime);
      return send(res, 200, { ok: true });
    case '/admin/refresh-token': {
      if (!clients.has(b.id)) return send(res, 404, { error: 'no such client' });
      const t = randomUUID();
      refreshTokens.set(t, b.id);
      log('admin refresh token issued for', b.id);
      return send(res, 200, { refresh_token: t });
    }
    case '/admin/revoke':
      for (const t of accessTokens.values()) t.revoked = true;
      log('admin revoked every access token');
      return send(res, 200, { ok: true });
    case '/admin/fail':
      failNext = { count: b.count ?? 1, status: b.status ?? 503 };
      return send(res, 200, { ok: true });
    case '/admin/approve':
      for (const d of deviceCodes.values()) if (d.user_code === b.user_code) d.approved = true;
      return send(res, 200, { ok: true });
    case '/admin/deny': // the person declines ({user_code, error}: Microsoft says authorization_declined)
      for (const d of deviceCodes.values()) if (d.user_code === b.user_code) d.denied = b.error ?? 'access_denied';
      return send(res, 200, { ok: true });
    case '/admin/expire': // the code runs out before anyone signs in ({user_code})
      for (const d of deviceCodes.values()) if (d.user_code === b.user_code) d.exp = 0;
      return send(res, 200, { ok: true });
    case '/admin/stats':
      return send(res, 200, { ...stats, live_refresh_tokens: refreshTokens.size });
    default:
      return send(res, 404, { error: 'unknown admin call' });
  }
}

/** RFC 8628 device authorization request. */
async function deviceAuthorization(req, res) {
  const b = Object.fromEntries(new URLSearchParams(await readBody(req)));
  const c = clients.get(b.client_id);
  if (!c) return send(res, 401, { error: 'invalid_client' });
  const device_code = randomUUID();
  const user_code = `${randomInt(1000, 9999)}-${randomInt(1000, 9999)}`;
  deviceCodes.set(device_code, { client: b.client_id, user_code, approved: false, exp: now() + 300 });
  log('device code issued for', b.client_id);
  send(res, 200, {
    device_code,
    user_code,
    verification_uri: `http://127.0.0.1:${port}/device`,
    expires_in: 300,
    interval: 1,
  });
}

/** The device-code grant at the token endpoint. */
async function deviceToken(req, res, b) {
  const d = deviceCodes.get(b.device_code);
  if (!d || d.client !== b.client_id) return send(res, 400, { error: 'invalid_grant' });
  if (d.denied) {
    deviceCodes.delete(b.device_code);
    log('device code denied:', d.denied);
    return send(res, 400, { error: d.denied, error_description: 'AADSTS70000: The user denied the authorization request.' });
  }
  if (d.exp <= now()) return send(res, 400, { error: 'expired_token', error_description: 'AADSTS70020: The provided value for the input parameter device_code is expired.' });
  if (!d.approved) return send(res, 400, { error: 'authorization_pending' });
  deviceCodes.delete(b.device_code);
  const c = clients.get(d.client);
  const access_token = await issuer.buildToken({
    expiresIn: c.lifetime,
    scopesOrTransform: (_h, p) => Object.assign(p, { email: c.user, client_id: d.client, scope: b.scope, jti: randomUUID() }),
  });
  const refresh_token = randomUUID();
  refreshTokens.set(refresh_token, d.client);
  accessTokens.set(access_token, { client: d.client, user: c.user, exp: now() + c.lifetime });
  count(stats.token, 'device_code');
  log('token device_code', d.client, 'issued');
  send(res, 200, { access_token, token_type: 'Bearer', expires_in: c.lifetime, refresh_token });
}

const server = http.createServer(async (req, res) => {
  try {
    const path = new URL(req.url, 'http://x').pathname;
    if (path.startsWith('/admin/')) return await admin(req, res, path);
    if (path === '/devicecode' && req.method === 'POST') return await deviceAuthorization(req, res);
    if (path === '/token' && req.method === 'POST') {
      if (failNext.count > 0) {
        failNext.count -= 1;
        log('token request failed on purpose with', failNext.status);
        res.writeHead(failNext.status, { 'content-type': 'text/html' });
        return res.end('<html><body>Service Unavailable</body></html>');
      }
      // Parsed here (the mock's parser skips a body already read).
      const b = Object.fromEntries(new URLSearchParams(await readBody(req)));
      if (b.grant_type === 'urn:ietf:params:oauth:grant-type:device_code') return await deviceToken(req, res, b);
      req.body = b;
    }
    service.requestHandler(req, res);
  } catch (e) {
    log('error', String(e));
    send(res, 500, { error: 'server_error', error_description: String(e) });
  }
});
server.listen(port, '127.0.0.1', () => log('listening', `127.0.0.1:${port}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
