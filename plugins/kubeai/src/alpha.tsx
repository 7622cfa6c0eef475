import { createFrontendPlugin } from '@backstage/frontend-plugin-api';

/** The KubeAI plugin for the new frontend system. */
export default createFrontendPlugin({
  pluginId: 'kubeai',
  extensions: [],
});
