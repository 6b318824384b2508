// Test-only authorization server for internal/interop: node-oidc-provider on
// loopback with TLS, configured entirely by the Go test.
//
//   node server.mjs <config.json>
//
// The config file (written by the Go harness) holds:
//   host, port (0 = any), tls: {cert, key} (PEM paths), clientCA (PEM path of
//   the test CA that issues tls_client_auth certificates), nonceMode ("off",
//   "optional" or "required"), accountId, clients (client metadata with public
//   JWKS only; the Go side keeps the private keys) and resourceServers
//   (resource indicator -> {scope, accessTokenFormat}).
//
// When the server listens it prints exactly one line, "READY <port>", on
// stdout. The issuer is https://<host>:<port>. Everything the provider rejects
// or fails on is logged to stderr as one JSON line, which the Go test prints
// when a test fails. The process exits when its stdin closes, so it never
// outlives the Go test that started it.

import * as crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as https from 'node:https';

import Provider, { errors } from 'oidc-provider';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));

function log(event, fields) {
  process.stderr.write(`${JSON.stringify({ event, ...fields })}\n`);
}

// Provider keys, fresh per run. The Go side fetches them from jwks_uri.
// Fixed kids keep the logs and the JWKS readable.
function genJWK(type, options, extra) {
  const { privateKey } = crypto.generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), ...extra };
}
const jwks = {
  keys: [
    // First signing key: ES256 (JARM, JWT introspection, at+jwt, id_token).
    genJWK('ec', { namedCurve: 'P-256' }, { kid: 'sig-es256', use: 'sig', alg: 'ES256' }),
    genJWK('rsa', { modulusLength: 2048 }, { kid: 'sig-rsa', use: 'sig' }),
    // Encryption keys, for request objects the Go side encrypts to the provider.
    genJWK('ec', { namedCurve: 'P-256' }, { kid: 'enc-ecdh', use: 'enc', alg: 'ECDH-ES' }),
    genJWK('rsa', { modulusLength: 2048 }, { kid: 'enc-rsa', use: 'enc', alg: 'RSA-OAEP-256' }),
  ],
};

// Test CA for tls_client_auth (RFC 8705 section 2.1).
const clientCA = new crypto.X509Certificate(readFileSync(cfg.clientCA));

// The TLS server requests a client certificate but neither requires nor
// verifies it, and has no `ca`: with a `ca`, the CertificateRequest lists
// its subjects and Go withholds a self-signed client certificate. Each
// authentication method checks the certificate itself (below).
const server = https.createServer({
  cert: readFileSync(cfg.tls.cert),
  key: readFileSync(cfg.tls.key),
  requestCert: true,
  rejectUnauthorized: false,
});

// Headless login. Authorization requests need a login interaction; there is
// no browser, so interactions.url completes it at once: it stores a login for
// cfg.accountId in the interaction and sends the user agent straight to the
// resume endpoint (/auth/<uid>). Consent is never asked because
// loadExistingGrant grants everything requested.
const interactions = {
  async url(ctx, interaction) {
    if (interaction.prompt.name === 'login') {
      interaction.result = { login: { accountId: cfg.accountId } };
    } else {
      // Unexpected: fail the flow visibly instead of looping.
      log('interaction.unexpected', { prompt: interaction.prompt });
      interaction.result = {
        error: 'access_denied',
        error_description: `headless peer cannot complete prompt ${interaction.prompt.name}`,
      };
    }
    await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));
    return interaction.returnTo;
  },
};

// A fresh grant per authorization: every requested OIDC scope and claim, and
// every requested resource with its requested scopes.
async function loadExistingGrant(ctx) {
  const { oidc } = ctx;
  const grant = new oidc.provider.Grant({
    accountId: oidc.session.accountId,
    clientId: oidc.client.clientId,
  });
  const scopes = [...(oidc.requestParamScopes || [])];
  if (scopes.length) grant.addOIDCScope(scopes.join(' '));
  const claims = [...(oidc.requestParamClaims || [])];
  if (claims.length) grant.addOIDCClaims(claims);
  for (const [indicator, rs] of Object.entries(oidc.resourceServers || {})) {
    const rsScopes = scopes.filter((s) => rs.scopes.has(s));
    grant.addResourceScope(indicator, rsScopes.join(' '));
  }
  await grant.save();
  return grant;
}

function peerCertificate(ctx) {
  // getPeerX509Certificate returns undefined when no certificate was sent.
  return ctx.req.socket.getPeerX509Certificate();
}

// tls_client_auth trust: the leaf must be issued and signed by the test CA
// and be within its validity period. Go clients send the leaf only.
function certificateAuthorized(ctx) {
  const cert = peerCertificate(ctx);
  if (!cert) return false;
  const now = Date.now();
  return cert.checkIssued(clientCA)
    && cert.verify(clientCA.publicKey)
    && Date.parse(cert.validFrom) <= now && now <= Date.parse(cert.validTo);
}

// Node prints a subject as "O=x\nCN=y" (certificate order); RFC 8705's
// tls_client_auth_subject_dn is an RFC 4514 string, most specific first, as Go's
// pkix.Name.String() writes it ("CN=y,O=x"). Enough for the test subjects,
// which have no characters that need escaping.
function certificateSubjectMatches(ctx, property, expected) {
  const cert = peerCertificate(ctx);
  if (!cert || property !== 'tls_client_auth_subject_dn') return false;
  return cert.subject.split('\n').reverse().join(',') === expected;
}

const fapiAlgs = ['ES256', 'PS256', 'EdDSA'];

const nonceModes = {
  off: {},
  optional: { nonceSecret: crypto.randomBytes(32), requireNonce: () => false },
  required: { nonceSecret: crypto.randomBytes(32), requireNonce: () => true },
};
if (!nonceModes[cfg.nonceMode]) {
  throw new Error(`unknown nonceMode ${cfg.nonceMode}`);
}

server.listen(cfg.port || 0, cfg.host, () => {
  const { port } = server.address();
  const issuer = `https://${cfg.host}:${port}`;
  const endpoint = (path) => `${issuer}${path}`;

  const provider = new Provider(issuer, {
    clients: cfg.clients,
    jwks,
    findAccount: (ctx, sub) => ({
      accountId: sub,
      claims: () => ({ sub, email: `${sub}@interop.test`, email_verified: true }),
    }),
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    scopes: ['openid', 'offline_access', 'email'],
    clientAuthMethods: [
      'private_key_jwt',
      'client_secret_basic',
      'self_signed_tls_client_auth',
      'tls_client_auth',
    ],
    responseTypes: ['code'],
    // The FAPI 2.0 algorithms (and the library's default allow-list).
    enabledJWA: {
      clientAuthSigningAlgValues: fapiAlgs,
      requestObjectSigningAlgValues: fapiAlgs,
      authorizationSigningAlgValues: fapiAlgs,
      introspectionSigningAlgValues: fapiAlgs,
      idTokenSigningAlgValues: fapiAlgs,
      userinfoSigningAlgValues: fapiAlgs,
      dPoPSigningAlgValues: fapiAlgs,
    },
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: 'ES256',
      token_endpoint_auth_method: 'private_key_jwt',
    },
    // FAPI 2.0 Security Profile for the clients that do the code flow: PKCE
    // required, client assertion aud must be the issuer, request objects must
    // carry exp/nbf/aud. Machine clients get no profile.
    features: {
      fapi: {
        enabled: true,
        profile: (ctx, client) => (client?.grantTypes?.includes('authorization_code') ? '2.0' : undefined),
      },
      devInteractions: { enabled: false },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
      requestObjects: { enabled: true, requireSignedRequestObject: true },
      encryption: { enabled: true },
      jwtResponseModes: { enabled: true },
      dPoP: { enabled: true, ...nonceModes[cfg.nonceMode] },
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        selfSignedTlsClientAuth: true,
        tlsClientAuth: true,
        getCertificate: peerCertificate,
        certificateAuthorized,
        certificateSubjectMatches,
      },
      introspection: { enabled: true },
      jwtIntrospection: { enabled: true },
      revocation: { enabled: true },
      clientCredentials: { enabled: true },
      userinfo: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // No resource requested: the token is for userinfo.
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        getResourceServerInfo(ctx, indicator) {
          const rs = cfg.resourceServers[indicator];
          if (!rs) throw new errors.InvalidTarget();
          return {
            audience: indicator,
            scope: rs.scope,
            accessTokenFormat: rs.accessTokenFormat,
            ...(rs.accessTokenFormat === 'jwt' ? { jwt: { sign: { alg: 'ES256' } } } : {}),
          };
        },
      },
      rpInitiatedLogout: { enabled: false },
    },
    // Same host and paths: this server accepts certificates on every endpoint.
    discovery: {
      mtls_endpoint_aliases: {
        token_endpoint: endpoint('/token'),
        pushed_authorization_request_endpoint: endpoint('/request'),
        introspection_endpoint: endpoint('/token/introspection'),
        revocation_endpoint: endpoint('/token/revocation'),
        userinfo_endpoint: endpoint('/me'),
      },
    },
    pkce: { required: () => true },
    interactions,
    loadExistingGrant,
    // Deterministic lifetimes (and quiet: the defaults log a notice each).
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      ClientCredentials: 600,
      IdToken: 600,
      Interaction: 600,
      Session: 600,
      Grant: 600,
    },
    // No cookies.keys: cookies stay unsigned, so the resume cookie can be
    // restored from the path (see the request handler below).
    renderError(ctx, out) {
      ctx.type = 'json';
      ctx.body = out;
    },
  });
  provider.proxy = false;

  // Log every error the provider reports. OAuth error responses also go back
  // to the client; these lines add the reason the client never sees.
  provider.on('server_error', (ctx, err) => log('server_error', { route: ctx?.oidc?.route, error: String(err), stack: err?.stack }));
  for (const event of [
    'authorization.error', 'grant.error', 'pushed_authorization_request.error',
    'introspection.error', 'revocation.error', 'userinfo.error', 'jwks.error', 'discovery.error',
  ]) {
    provider.on(event, (ctx, err) => log(event, {
      error: err?.error ?? String(err),
      error_description: err?.error_description,
      error_detail: err?.error_detail,
      cause: err?.cause ? String(err.cause) : undefined,
    }));
  }

  const callback = provider.callback();
  const resumePath = /^\/auth\/([A-Za-z0-9_-]+)$/;
  const resumeCookie = provider.cookieName('resume');
  server.on('request', (req, res) => {
    // Headless resume: node-oidc-provider binds the resume step (/auth/<uid>)
    // to the _interaction_resume cookie it set on the first redirect. The Go
    // client keeps no cookie jar, so the cookie is restored here from the
    // path. This is the one thing a browser would have done.
    const m = resumePath.exec(new URL(req.url, issuer).pathname);
    if (m && req.method === 'GET' && !req.headers.cookie) {
      req.headers.cookie = `${resumeCookie}=${m[1]}`;
    }
    callback(req, res);
  });

  process.stdout.write(`READY ${port}\n`);
});

server.on('tlsClientError', (err) => log('tls_client_error', { error: String(err) }));

// Exit when the Go test goes away (stdin is its pipe), or is told to.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
