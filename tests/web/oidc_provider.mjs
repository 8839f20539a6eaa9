// A real OpenID Connect provider on loopback for PILOT's web tests (never a mock):
// the `oidc-provider` package (pinned in package-lock.json) with its development login
// form. It plays ProConnect's part: authorization code with PKCE, signed ID token, a
// signed (JWT) userinfo response carrying the email, given_name and usual_name claims,
// and RP-initiated logout.
//
// Usage: node tests/web/oidc_provider.mjs CONFIG.json
// CONFIG: {"port", "client_id", "client_secret", "redirect_uris": [...],
//          "post_logout_redirect_uris": [...], "users": {"login": {"email", ...}}}
// Prints "ready <issuer>" on stdout once it listens.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = `http://127.0.0.1:${config.port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: config.client_id,
      client_secret: config.client_secret,
      redirect_uris: config.redirect_uris,
      post_logout_redirect_uris: config.post_logout_redirect_uris,
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_post',
      // ProConnect signs its userinfo response too
      userinfo_signed_response_alg: 'RS256',
    },
  ],
  // ProConnect's scopes carry one claim each
  claims: {
    openid: ['sub'],
    email: ['email'],
    given_name: ['given_name'],
    usual_name: ['usual_name'],
  },
  scopes: ['openid', 'email', 'given_name', 'usual_name'],
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    jwtUserinfo: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  cookies: { keys: ['pilot-tests-only-cookie-key'] },
  async findAccount(ctx, id) {
    const user = config.users[id];
    if (!user) {
      return undefined;
    }
    return { accountId: id, async claims() { return { sub: id, ...user }; } };
  },
});
provider.proxy = false;

const server = provider.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
