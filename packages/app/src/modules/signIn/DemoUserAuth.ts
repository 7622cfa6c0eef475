import type {
  BackstageIdentityApi,
  BackstageIdentityResponse,
  DiscoveryApi,
  ProfileInfo,
  ProfileInfoApi,
  SessionApi,
  SessionState,
} from '@backstage/core-plugin-api';

/** The auth API the sign-in page's provider cards use. */
export type SignInAuthApi = ProfileInfoApi & BackstageIdentityApi & SessionApi;

interface Session {
  profile: ProfileInfo;
  identity: BackstageIdentityResponse;
  /** When to ask for a new token. */
  refreshAt: number;
}

/** Ask for a new token this long before the current one expires. */
const REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * One demo user's session with the backend's `demo` auth provider
 * (packages/backend/src/demoSignIn.ts): `GET /api/auth/demo/refresh?user=<ref>` answers a real
 * Backstage token for that user (issued by the catalog's sign-in resolver), renewed before it
 * expires. No token is stored in the browser: after a reload the sign-in page, which remembers
 * the chosen provider, asks again.
 */
export class DemoUserAuth implements SignInAuthApi {
  readonly #discoveryApi: DiscoveryApi;
  readonly #userEntityRef: string;
  #session: Promise<Session> | undefined;
  #signedIn = false;

  constructor(options: { discoveryApi: DiscoveryApi; userEntityRef: string }) {
    this.#discoveryApi = options.discoveryApi;
    this.#userEntityRef = options.userEntityRef;
  }

  async getBackstageIdentity(): Promise<BackstageIdentityResponse> {
    return (await this.#current()).identity;
  }

  async getProfile(): Promise<ProfileInfo> {
    return (await this.#current()).profile;
  }

  async signIn(): Promise<void> {
    await this.#current();
  }

  async signOut(): Promise<void> {
    this.#session = undefined;
    this.#signedIn = false;
  }

  /** Emits the current state once: it changes only by signing in or out, which reload the app. */
  sessionState$(): ReturnType<SessionApi['sessionState$']> {
    const state: SessionState = this.#signedIn ? 'SignedIn' : 'SignedOut';
    const observable = {
      subscribe(
        observer?:
          | ((value: SessionState) => void)
          | { next?(value: SessionState): void },
      ) {
        if (typeof observer === 'function') observer(state);
        else observer?.next?.(state);
        return { closed: true, unsubscribe() {} };
      },
    };
    const interop = (Symbol as unknown as { observable?: symbol }).observable;
    return Object.assign(observable, {
      [interop ?? '@@observable']: () => observable,
    }) as unknown as ReturnType<SessionApi['sessionState$']>;
  }

  #current(): Promise<Session> {
    const session = this.#session;
    if (session) {
      return session.then(s =>
        Date.now() < s.refreshAt ? s : this.#refresh(),
      );
    }
    return this.#refresh();
  }

  #refresh(): Promise<Session> {
    const session = this.#fetch();
    this.#session = session;
    session.then(
      () => {
        this.#signedIn = true;
      },
      () => {
        // the next call tries again
        if (this.#session === session) this.#session = undefined;
      },
    );
    return session;
  }

  async #fetch(): Promise<Session> {
    const baseUrl = await this.#discoveryApi.getBaseUrl('auth');
    const response = await fetch(
      `${baseUrl}/demo/refresh?user=${encodeURIComponent(this.#userEntityRef)}`,
      {
        headers: { 'X-Requested-With': 'XMLHttpRequest' },
        credentials: 'include',
      },
    );
    if (!response.ok) {
      // the backend's error body: { error: { name, message } }
      const text = await response.text();
      let message = text;
      try {
        message = JSON.parse(text).error?.message ?? text;
      } catch {
        // not JSON: the text as it is
      }
      throw new Error(
        `Signing in as ${this.#userEntityRef} failed (HTTP ${
          response.status
        }): ${message}`,
      );
    }
    const body = (await response.json()) as {
      profile: ProfileInfo;
      backstageIdentity: {
        token: string;
        expiresInSeconds?: number;
        identity: BackstageIdentityResponse['identity'];
      };
    };
    const { token, identity, expiresInSeconds } = body.backstageIdentity;
    const lifetime = (expiresInSeconds ?? 3600) * 1000;
    return {
      profile: body.profile,
      identity: {
        token,
        identity,
        expiresAt: new Date(Date.now() + lifetime),
      },
      refreshAt:
        Date.now() + Math.max(lifetime - REFRESH_MARGIN_MS, lifetime / 2),
    };
  }
}
