// A certified OpenID provider (panva/oidc-provider) for the single sign-on tests, listening on
// 127.0.0.1 only. tests/test_sso.py starts it with `node provider.mjs` and waits for its
// discovery document. Configuration by environment:
//   PORT           the port to listen on
//   REDIRECT_URIS  the client's callback URLs, comma-separated
//   LOGOUT_URIS    the client's post-logout URLs, comma-separated
// The client "bro" (secret "bro-test-secret") is a first-party app: no consent screen, PKCE
// required. Sign in on the development login page with an account id below and any password.
//
// To test how the app treats a provider that misbehaves, GET /__test/next?mode=... changes the
// next ID token the token endpoint returns (once), re-signed with the provider's own key:
//   wrong_aud  another audience     wrong_iss  another issuer    expired  expired an hour ago
//   tampered   a claim changed after signing (the signature no longer matches)
//   claims     merge the JSON object in ?claims=... (amr, acr, email_verified, ...)
import { generateKeyPair, exportJWK, importJWK, SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 4011);
const issuer = `http://127.0.0.1:${port}`;
const list = (value) => (value || '').split(',').filter(Boolean);

const ACCOUNTS = {
  anna: { email: 'anna@example.org', email_verified: true, groups: ['bro-staff'] },
  unverified: { email: 'anna@example.org', email_verified: false, groups: [] },
  noemail: { groups: [] },
  stranger: { email: 'stranger@example.org', email_verified: true, groups: [] },
  grouped: { email: 'grouped@example.org', email_verified: true, groups: ['bro-coordinators', 'other'] },
  admin: { email: 'admin@example.org', email_verified: true, groups: [] },
  // The demo organisation's bridge builder (tests/e2e/test_sso.py).
  brobyggare: { email: 'brobyggare@demo.test', email_verified: true, groups: [] },
};

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
const signingKey = await importJWK(signingJwk, 'RS256');

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'bro',
    client_secret: 'bro-test-secret',
    redirect_uris: list(process.env.REDIRECT_URIS),
    post_logout_redirect_uris: list(process.env.LOGOUT_URIS),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [signingJwk] },
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'groups'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], groups: ['groups'] },
  conformIdTokenClaims: false, // the ID token carries the claims its scopes asked for
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  cookies: { keys: ['a test key, never a real one'] },
  async findAccount(_ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...account }; } };
  },
  // A first-party client: the grant is given without a consent screen.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email groups');
    grant.addOIDCClaims(['email', 'email_verified', 'groups']);
    await grant.save();
    return grant;
  },
});

let next = null;
provider.use(async (ctx, nextMiddleware) => {
  if (ctx.path === '/__test/next') {
    next = { mode: ctx.query.mode, claims: ctx.query.claims ? JSON.parse(ctx.query.claims) : {} };
    ctx.body = { next };
    return;
  }
  await nextMiddleware();
  if (ctx.path === '/token' && next && ctx.body && ctx.body.id_token) {
    ctx.body = { ...ctx.body, id_token: await misbehave(ctx.body.id_token, next) };
    next = null;
  }
});

async function misbehave(idToken, { mode, claims }) {
  const now = Math.floor(Date.now() / 1000);
  const payload = { ...decodeJwt(idToken), ...claims };
  if (mode === 'wrong_aud') payload.aud = 'someone-else';
  if (mode === 'wrong_iss') payload.iss = 'http://127.0.0.1:1/not-the-issuer';
  if (mode === 'expired') Object.assign(payload, { iat: now - 7200, exp: now - 3600, auth_time: now - 7200 });
  const signed = await new SignJWT(payload)
    .setProtectedHeader(decodeProtectedHeader(idToken))
    .sign(signingKey);
  if (mode !== 'tampered') return signed;
  const [header, , signature] = signed.split('.');
  const changed = Buffer.from(JSON.stringify({ ...payload, email: 'admin@example.org' })).toString('base64url');
  return `${header}.${changed}.${signature}`;
}

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
