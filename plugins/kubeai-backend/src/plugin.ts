import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { actionsRegistryServiceRef } from '@backstage/backend-plugin-api/alpha';
import { eventsServiceRef } from '@backstage/plugin-events-node';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import {
  KUBEAI_PLUGIN_ID,
  kubeaiNamespacePermissions,
  kubeaiObservedPermissions,
  kubeaiPermissions,
} from '@kubeai/plugin-kubeai-common';
import Router from 'express-promise-router';
import { RegistryStore } from './database/RegistryStore';
import { InformerManager } from './informers/InformerManager';
import { createRouter } from './service/router';
import { AuditTrail } from './service/audit/AuditTrail';
import {
  AuditRetention,
  readAuditRetentionConfig,
} from './service/audit/retention';
import { readRunRetentionConfig, RunRetention } from './database/RunRetention';
import { ClusterGateway } from './cluster';
import { registerKubeaiActions } from './service/clusterRoutes.actions';
import {
  kubeaiNamespaceResourceRef,
  kubeaiNamespaceRules,
} from './permissions';
import { NamespaceDirectory } from './tenancy/NamespaceDirectory';
import { RUN_CREDENTIAL_PATHS } from './service/access/RunCredentials';
import {
  readRunCredentialsConfig,
  RunIdentities,
} from './service/cluster/runIdentities';
import { readTenancyConfig } from './tenancy/tenancyConfig';
import { readPoolRoutingConfig } from './service/cluster/poolRouting';
import { readCostConfig } from './cost/costConfig';
import { CostStore } from './cost/CostStore';

const megabytes = (value: number | undefined) =>
  value === undefined ? undefined : value * 1024 * 1024;

/** The KubeAI backend plugin, mounted at `/api/kubeai`. */
export const kubeaiPlugin = createBackendPlugin({
  pluginId: KUBEAI_PLUGIN_ID,
  register(env) {
    env.registerInit({
      deps: {
        http: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        auth: coreServices.auth,
        userInfo: coreServices.userInfo,
        database: coreServices.database,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        logger: coreServices.logger,
        config: coreServices.rootConfig,
        catalog: catalogServiceRef,
        lifecycle: coreServices.lifecycle,
        discovery: coreServices.discovery,
        events: eventsServiceRef,
        actionsRegistry: actionsRegistryServiceRef,
        auditor: coreServices.auditor,
        scheduler: coreServices.scheduler,
      },
      async init({
        http,
        httpAuth,
        auth,
        userInfo,
        database,
        permissions,
        permissionsRegistry,
        logger,
        config,
        catalog,
        lifecycle,
        discovery,
        events,
        actionsRegistry,
        auditor,
        scheduler,
      }) {
        // before anything is set up: a bad value stops the backend here, naming the key
        const { retentionDays } = readAuditRetentionConfig(config);
        const runRetention = readRunRetentionConfig(config);
        const costConfig = readCostConfig(config);
        const runCredentials = readRunCredentialsConfig(
          config,
          await discovery.getExternalBaseUrl(KUBEAI_PLUGIN_ID),
        );

        const health = Router();
        health.get('/health', (_req, res) => {
          res.json({ status: 'ok' });
        });
        http.use(health);
        http.addAuthPolicy({ path: '/health', allow: 'unauthenticated' });
        // Run-scoped credentials are not Backstage tokens: these routes let them through to the
        // router, whose RunCredentials middleware decides them and asks httpAuth for any other
        // token exactly as the httpRouter would (service/access/RunCredentials.ts).
        for (const path of RUN_CREDENTIAL_PATHS) {
          http.addAuthPolicy({ path, allow: 'unauthenticated' });
        }

        permissionsRegistry.addPermissions(kubeaiPermissions);

        // Applies the migrations in migrations/ (tables kubeai_*).
        const store = await RegistryStore.create({ database });

        // The one cluster gateway: the `kubernetes.clusterLocatorMethods` clusters; it writes as
        // the caller when `kubeai.tenancy.impersonation` is on (userInfo: the user's groups).
        const gateway = ClusterGateway.fromConfig(config, {
          logger: {
            debug: message => logger.debug(message),
            info: message => logger.info(message),
            warn: message => logger.warn(message),
            error: message => logger.error(message),
          },
          userInfo,
        });

        // Who owns which namespace (kubeai.tenancy, kubeai.io/owner): the cluster-namespace
        // resource of the permission framework, so policies decide writes per namespace.
        const namespaces = new NamespaceDirectory({
          gateway,
          tenancy: readTenancyConfig(config),
          logger,
        });
        permissionsRegistry.addResourceType({
          resourceRef: kubeaiNamespaceResourceRef,
          permissions: kubeaiNamespacePermissions,
          rules: Object.values(kubeaiNamespaceRules),
          getResources: refs => namespaces.resources(refs),
        });

        // Cluster informers (src/informers): observed state into the registry; started once the
        // backend is up, stopped on shutdown. `kubeai.informers.enabled: false` turns them off.
        permissionsRegistry.addPermissions(kubeaiObservedPermissions);
        // With several replicas, one per cluster leads (kubeai.leaderElection, a Lease there).
        const informers = InformerManager.fromConfig(config, {
          store,
          logger,
          gateway,
          election: {
            cursors: store.informerCursors,
            installationId: await store.informerCursors.installationId(),
          },
        });
        if (informers) {
          lifecycle.addStartupHook(() => informers.start());
          lifecycle.addShutdownHook(() => informers.stop());
          // the namespaces are watched with the informers (else read when a decision needs them)
          lifecycle.addStartupHook(() => namespaces.start());
          lifecycle.addShutdownHook(() => namespaces.stop());
        }
        // Every write of the API: to the auditor service and the registry (GET /audit-events);
        // the events of the last answers are stored before shutdown.
        const audit = new AuditTrail({ store: store.audit, logger, auditor });
        lifecycle.addShutdownHook(() => audit.flushed());
        // Events older than kubeai.audit.retentionDays go, with their targets, in short batches.
        // A scheduled task of the scheduler service: one replica at a time runs it.
        const retention = new AuditRetention({
          db: await database.getClient(),
          retentionDays,
          logger,
        });
        await scheduler.scheduleTask({
          id: 'kubeai-audit-retention',
          frequency: { hours: 1 },
          timeout: { minutes: 15 },
          initialDelay: { minutes: 1 },
          fn: async signal => {
            await retention.run(signal);
          },
        });
        // Finished runs are priced once and added to the daily cost sums (src/cost/CostStore.ts);
        // one replica at a time, restart-safe (the runs' own cost column is the state).
        const cost = new CostStore({
          db: await database.getClient(),
          config: costConfig,
          logger,
          teamsOf: async refs =>
            (await namespaces.resources(refs)).map(ns => ns?.owner),
        });
        await scheduler.scheduleTask({
          id: 'kubeai-cost-fold',
          frequency: { minutes: 5 },
          timeout: { minutes: 10 },
          initialDelay: { seconds: 30 },
          fn: async signal => {
            await cost.fold({ signal });
          },
        });
        // Finished runs older than kubeai.retention.runs.maxAgeDays are folded into daily rollups
        // and removed in short batches, unless a rule keeps them (database/RunRetention.ts).
        // Unset: runs are kept and no task is scheduled.
        if (runRetention.maxAgeDays !== undefined) {
          const runs = new RunRetention({
            db: await database.getClient(),
            maxAgeDays: runRetention.maxAgeDays,
            logger,
            teamsOf: async refs =>
              (await namespaces.resources(refs)).map(ns => ns?.owner),
            // the runs it removes are in the cost sums first (same transaction)
            foldCost: (tx, ids) => cost.foldRows(tx, ids, new Map()),
          });
          await scheduler.scheduleTask({
            id: 'kubeai-run-retention',
            frequency: { hours: 1 },
            timeout: { minutes: 30 },
            initialDelay: { minutes: 3 },
            fn: async signal => {
              await runs.run(signal);
            },
          });
        }
        // Unfinished runs get a new credential in their Secret before the old one expires.
        const runIdentities = new RunIdentities({
          runs: store.runs,
          credentials: store.runCredentials,
          gateway: () => gateway,
          config: runCredentials,
          logger,
        });
        await scheduler.scheduleTask({
          id: 'kubeai-run-credentials',
          frequency: { minutes: 30 },
          timeout: { minutes: 10 },
          initialDelay: { minutes: 2 },
          fn: async signal => {
            await runIdentities.renew(signal);
          },
        });
        http.use(
          await createRouter({
            store,
            httpAuth,
            auth,
            permissions,
            catalog,
            logger,
            maxBodySize: config.getOptionalString(
              'kubeai.registry.maxBodySize',
            ),
            lineageCacheBytes: megabytes(
              config.getOptionalNumber('kubeai.registry.lineageCacheMegabytes'),
            ),
            validateResponses: config.getOptionalBoolean(
              'kubeai.registry.validateResponses',
            ),
            observed: { informers },
            // POST /notebooks, /jobs, /datasets, /inference-services, /pipelines … (clusterRoutes.ts)
            cluster: {
              gateway,
              events,
              namespaces,
              runCredentials,
              poolRouting: readPoolRoutingConfig(config),
            },
            audit,
            cost,
          }),
        );

        // The kubeai:* actions, callable outside templates (actions registry, MCP).
        registerKubeaiActions({ actionsRegistry, auth, discovery });
      },
    });
  },
});
