import { createRouteRef } from '@backstage/frontend-plugin-api';

/** The KubeAI page (`/kubeai`). */
export const rootRouteRef = createRouteRef();
