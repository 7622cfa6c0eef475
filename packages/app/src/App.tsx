import { createApp } from '@backstage/frontend-defaults';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import notificationsPlugin from '@backstage/plugin-notifications/alpha';
import kubeaiPlugin, {
  kubeaiCatalogGraphModule,
  kubeaiScaffolderFieldsModule,
} from '@kubeai/plugin-kubeai/alpha';
import { navModule } from './modules/nav';
import { homeModule } from './modules/home';
import { signInModule } from './modules/signIn';

export default createApp({
  features: [
    catalogPlugin,
    // The sidebar (modules/nav) shows NotificationsSidebarItem, which needs the notifications API.
    notificationsPlugin,
    navModule,
    homeModule,
    // Guest and the demo users of auth.providers.demo (app-config.yaml).
    signInModule,
    // Also discovered through `app.packages: all`; listed so that the app works without discovery.
    kubeaiPlugin,
    // Discovery loads only default exports: the modules for other plugins must be listed.
    kubeaiCatalogGraphModule,
    kubeaiScaffolderFieldsModule,
  ],
});
