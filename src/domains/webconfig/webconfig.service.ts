// What the web app needs to know about this deployment before anyone signs in: how
// people sign in and whether calls can happen. Only public values: the Supabase URL
// and anon key are meant for browsers; no secret is ever part of it.
import type { Config } from '../../config.ts';
import { devProfile, devToken, devTokensAllowed } from '../../http/dev-tokens.ts';
import { notFound, validation } from '../../errors.ts';

export type AuthMode = 'development' | 'supabase' | 'external';

export interface ClientConfig {
  auth: { mode: AuthMode; supabase_url?: string; supabase_anon_key?: string };
  livekit: { configured: boolean; url?: string };
}

/** Development sign-in tokens last a working day; the web app signs in again after. */
export const DEV_SIGN_IN_TTL_SECONDS = 8 * 3600;

export class WebConfigService {
  constructor(
    private readonly config: Config,
    private readonly livekitWsUrl: string | null,
  ) {}

  clientConfig(): ClientConfig {
    const { supabase } = this.config;
    // Supabase wins when configured: the operator asked for it by setting both values.
    const auth: ClientConfig['auth'] =
      supabase.url && supabase.anonKey
        ? { mode: 'supabase', supabase_url: supabase.url, supabase_anon_key: supabase.anonKey }
        : { mode: devTokensAllowed(this.config) ? 'development' : 'external' };
    return {
      auth,
      livekit: this.livekitWsUrl ? { configured: true, url: this.livekitWsUrl } : { configured: false },
    };
  }

  /** Mints what `npm run dev-token -- <name>` prints; not found outside development. */
  async devSignIn(name: string, opts: { operator?: boolean } = {}) {
    if (!devTokensAllowed(this.config)) throw notFound('Route');
    const token = await devToken(this.config.auth.jwtSecret, name, DEV_SIGN_IN_TTL_SECONDS, opts.operator ? this.operatorClaim() : {});
    return {
      access_token: token,
      token_type: 'bearer' as const,
      expires_at: new Date(Date.now() + DEV_SIGN_IN_TTL_SECONDS * 1000).toISOString(),
      user: devProfile(name),
    };
  }

  /** The configured operator claim as a nested object: app_metadata.role -> {app_metadata: {role}}. */
  private operatorClaim(): Record<string, unknown> {
    const { claimPath, claimValue } = this.config.operators;
    if (!claimPath) throw validation('No operator claim is configured (OPERATOR_CLAIM=none): list the user in OPERATOR_USER_IDS');
    let claims: unknown = claimValue;
    for (const key of [...claimPath].reverse()) claims = { [key]: claims };
    return claims as Record<string, unknown>;
  }
}
