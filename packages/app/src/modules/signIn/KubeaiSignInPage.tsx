import { useMemo } from 'react';
import { ApiProvider } from '@backstage/core-app-api';
import { SignInPage } from '@backstage/core-components';
import {
  ApiHolder,
  ApiRef,
  ConfigApi,
  configApiRef,
  createApiRef,
  discoveryApiRef,
  SignInPageProps,
  useApi,
} from '@backstage/core-plugin-api';
import { DemoUserAuth, SignInAuthApi } from './DemoUserAuth';

/** A person of `auth.providers.demo.users` as the sign-in page offers them. */
export interface DemoUser {
  entityRef: string;
  title: string;
  description?: string;
}

/**
 * The demo users one may sign in as: `auth.providers.demo.users`, unless the provider is turned
 * off (`enabled: false`, as app-config.production.yaml does unless the e2e run turns it on).
 */
export function readDemoUsers(config: ConfigApi): DemoUser[] {
  const demo = config.getOptionalConfig('auth.providers.demo');
  if (!demo || demo.getOptionalBoolean('enabled') === false) return [];
  return (demo.getOptionalConfigArray('users') ?? []).map(user => {
    const entityRef = user.getString('entityRef');
    return {
      entityRef,
      title: user.getOptionalString('title') ?? entityRef,
      description: user.getOptionalString('description'),
    };
  });
}

/**
 * The sign-in page: guest, and each demo user as a provider card of its own. The core page looks
 * each card's auth API up by ref (and again after a reload, for the remembered choice), so the
 * demo users' APIs are provided around it.
 */
export function KubeaiSignInPage(props: SignInPageProps) {
  const config = useApi(configApiRef);
  const discoveryApi = useApi(discoveryApiRef);
  const users = useMemo(() => readDemoUsers(config), [config]);

  const { apis, providers } = useMemo(() => {
    const byId = new Map<string, SignInAuthApi>();
    const configs = users.map((user, i) => {
      const apiRef: ApiRef<SignInAuthApi> = createApiRef<SignInAuthApi>({
        id: `kubeai.auth.demo.user${i}`,
      });
      byId.set(
        apiRef.id,
        new DemoUserAuth({ discoveryApi, userEntityRef: user.entityRef }),
      );
      return {
        id: `kubeai-demo:${user.entityRef}`,
        title: user.title,
        message: `${
          user.description ? `${user.description}. ` : ''
        }Demo user (${user.entityRef}), no password.`,
        apiRef,
      };
    });
    const holder: ApiHolder = {
      get: <T,>(ref: ApiRef<T>) => byId.get(ref.id) as T | undefined,
    };
    return { apis: holder, providers: configs };
  }, [users, discoveryApi]);

  // Unknown refs fall through to the app's APIs (ApiProvider asks its parent).
  return (
    <ApiProvider apis={apis}>
      <SignInPage
        {...props}
        title="Sign in"
        align="left"
        providers={['guest', ...providers]}
      />
    </ApiProvider>
  );
}
