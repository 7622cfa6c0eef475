export interface Config {
  /** Configuration of the KubeAI plugins. */
  kubeai?: {
    /** The registry and lineage API of the kubeai backend plugin (`/api/kubeai`). */
    registry?: {
      /**
       * Largest accepted JSON request body, in the `bytes` notation of express (`1mb`, `500kb`).
       * Larger bodies are answered with 413. Default `1mb`.
       */
      maxBodySize?: string;
      /**
       * Validate every response against the OpenAPI spec too (a mismatch answers 500). Meant for
       * tests and development. Default false.
       */
      validateResponses?: boolean;
      /**
       * Memory for held `GET /lineage` answers (serialized, with their graphs), in MiB: an answer is
       * reused until a registry write (of any replica) changes one of its scopes (its entities, runs,
       * served artifacts), and patched when the writes since changed only some nodes' details (a
       * version's state, a run's phase). 0 turns the cache off. Default 64.
       */
      lineageCacheMegabytes?: number;
    };
    /**
     * The cluster informers: list + watch, in every cluster of `kubernetes.clusterLocatorMethods`,
     * the kinds the portal creates, and record their observed state in the registry (run phases,
     * deployments' observed state and drift, notebooks, dataset caches, discovered services).
     */
    informers?: {
      /** Start the informers with the backend. Default true. */
      enabled?: boolean;
      /** Only these clusters (names of `kubernetes.clusterLocatorMethods`). Default: all. */
      clusters?: string[];
      /**
       * Only these kinds (Job, CronJob, TFJob, PyTorchJob, XGBoostJob, TrainJob, Notebook,
       * InferenceService, Workflow, CronWorkflow, Dataset, PersistentVolumeClaim). Default: all.
       */
      kinds?: string[];
      /** How long watch events are coalesced before they are written, ms. Default 50. */
      flushIntervalMs?: number;
      /** How often deployments recorded without observed state are matched, ms. Default 3000. */
      reconcileIntervalMs?: number;
      /** Page size of the lists. Default 500. */
      pageSize?: number;
      /** Server-side timeout of one watch request, seconds (then it is resumed). Default 300. */
      watchTimeoutSeconds?: number;
      /** Retry delays after failures (exponential, with jitter). */
      backoff?: {
        /** First delay, ms. Default 250. */
        initialMs?: number;
        /** Longest delay, ms. Default 10000. */
        maxMs?: number;
      };
      /**
       * URL of a notebook server; `{namespace}` and `{name}` are replaced. Default
       * `/notebook/{namespace}/{name}/` (the Kubeflow gateway's path).
       */
      notebookUrlTemplate?: string;
    };
    /**
     * Several replicas of the portal (deploy/): in each cluster one replica — the holder of a
     * `coordination.k8s.io/v1` Lease named `kubeai-informers-<installation id>-<cluster>` —
     * runs the informers and stores, per kind, the resourceVersion it has written up to; the
     * others serve reads and take over within `leaseDurationSeconds + 2 × retryPeriodSeconds`
     * (9 s) of the leader dying, resuming the watches there (relisting only on 410 Gone). The portal's
     * cluster account needs get/create/update/delete on `leases` in `leaseNamespace`; when RBAC
     * refuses it, each replica watches without election (as with `enabled: false`).
     */
    leaderElection?: {
      /** Default true. */
      enabled?: boolean;
      /** Namespace of the Leases in every watched cluster. Default `kube-system`. */
      leaseNamespace?: string;
      /** How long a Lease holds without renewal, seconds. Default 6. */
      leaseDurationSeconds?: number;
      /** A leader that could not renew for this long stops leading, seconds. Default 4.5. */
      renewDeadlineSeconds?: number;
      /** How often Leases are renewed or tried, seconds. Default 1.5. */
      retryPeriodSeconds?: number;
    };
    /**
     * Many teams on one portal: who owns which namespace, and who runs the platform. Read by the
     * backend (the `kubeai-cluster-namespace` resource of the permission framework, the owners
     * shown in `GET /clusters/{cluster}/namespaces`) and by the `ownership` permission policy.
     */
    tenancy?: {
      /**
       * The label or annotation of a namespace naming its owning group. Values: a group ref in an
       * annotation (`group:default/cv-team`), the label form `group-<namespace>-<name>`
       * (`group-default-cv-team`: label values cannot hold `:` or `/`), or a bare group name in the
       * default namespace. Default `kubeai.io/owner`.
       */
      ownerKey?: string;
      /** Owners declared by the platform; they win over the namespace's own label. */
      namespaces?: Array<{
        /** A cluster of `kubernetes.clusterLocatorMethods`. */
        cluster: string;
        namespace: string;
        /** A group ref, e.g. `group:default/cv-team`. */
        owner: string;
      }>;
      /** Groups whose members may do everything under the `ownership` policy. */
      platformAdmins?: string[];
      /**
       * Callers from outside (`backend.auth.externalAccess` tokens) and the team each acts for,
       * read by the `ownership` policy: a mapped caller writes where the team may, an unmapped one
       * only reads.
       */
      serviceTeams?: Array<{
        /**
         * The principal's subject: a static token's `subject`; a JWKS token's `external:<sub>`
         * (`external:<subjectPrefix>:<sub>` with a subjectPrefix).
         */
        subject: string;
        /** A group ref, e.g. `group:default/search-reco`. */
        team: string;
      }>;
      /**
       * Kubernetes RBAC as a second wall: cluster writes (apply, dry runs included, and delete)
       * are sent with `Impersonate-User` / `Impersonate-Group` headers naming the signed-in
       * Backstage identity, so the cluster's own RBAC decides them for that person after the
       * portal's policy did. Reads and the informers keep the portal's credentials. The portal's
       * account needs the `impersonate` verb on `users` and `groups`.
       */
      impersonation?: {
        /** Default false: writes go with the portal's own credentials. */
        enabled?: boolean;
        /**
         * Prefix of the impersonated user: `<userPrefix><user entity ref>`, e.g.
         * `backstage:user:default/alice`. Default `backstage:`.
         */
        userPrefix?: string;
        /**
         * Prefix of the impersonated groups: one `<groupPrefix><group ref>` per group among the
         * user's ownership refs (e.g. `backstage:group:default/cv-team`), plus
         * `system:authenticated`. Default `backstage:`.
         */
        groupPrefix?: string;
        /**
         * Callers that are services (no user): `impersonate` (default) sends them as
         * `<userPrefix>service:<subject>` in group `<groupPrefix>services`; `portal` lets them
         * write with the portal's own credentials.
         */
        services?: 'impersonate' | 'portal';
      };
    };
    /** The audit trail of the API's writes (`GET /audit-events`, the activity cards). */
    audit?: {
      /**
       * Days an audit event is kept: older events (and their entity / run lookups) are deleted by
       * the hourly task `kubeai-audit-retention` of the scheduler (one replica at a time, in batches
       * of 500). A whole number from 1 to 36500; anything else stops the backend at startup.
       * Default 365.
       */
      retentionDays?: number;
    };
    /** What the registry keeps, and for how long. */
    retention?: {
      runs?: {
        /**
         * Days a finished run is kept: older finished runs are folded into daily rollups (table
         * `kubeai_run_rollups`: count, duration and requested CPU / memory / GPU seconds per day,
         * cluster, namespace, team, model, kind, periodic task and phase) and removed with their
         * inputs and credentials by the hourly task `kubeai-run-retention` (one replica at a
         * time, batches of 500). Kept whatever their age: runs that produced a model version,
         * wrote a deployment, are the latest execution of their periodic task or have executions,
         * or whose object the informers still see. A whole number from 1 to 36500; anything else
         * stops the backend at startup. Unset (default): runs are kept forever.
         */
        maxAgeDays?: number;
      };
    };
    /**
     * Run identity: every run the portal creates (training task, notebook, pipeline) gets
     * `kubeai.io/run`, env KUBEAI_RUN_ID / KUBEAI_MODEL / KUBEAI_API_URL / KUBEAI_CLUSTER and a
     * run-scoped credential mounted from a Secret (`KUBEAI_RUN_TOKEN_FILE`), accepted only to
     * register that run's model versions, the dataset versions it read, its phase and metrics,
     * and a pipeline's own rollouts.
     */
    runCredentials?: {
      /**
       * The KubeAI API as the run's pods reach it, e.g.
       * `http://backstage.backstage.svc:7007/api/kubeai`. Default: the backend's external URL
       * for the kubeai plugin.
       */
      apiUrl?: string;
      /**
       * Hours one credential is valid (more than 0, at most 720; default 24). The task
       * `kubeai-run-credentials` renews the Secret of unfinished runs every 30 minutes once half
       * of that has passed.
       */
      ttlHours?: number;
    };
    /** Pools and quotas (Kueue): how training tasks are routed to them. */
    pools?: {
      /**
       * Set: a training task goes to its namespace's LocalQueue without a queue name; the queue,
       * flavor and priority class a user gives are checked (422 naming an unknown one). Unset:
       * the Kueue labels are set as typed and nothing is looked up.
       */
      routing?: {
        /** Size rules, first match wins: the task's cpu (cores) and gpu (count) per pod. */
        flavors?: Array<{
          /** A ResourceFlavor name; used where the team's ClusterQueue has quota in it. */
          flavor: string;
          maxCpu?: number;
          minGpu?: number;
          maxGpu?: number;
        }>;
        /** The flavor of a task no rule fits; unset: Kueue picks among the team's flavors. */
        defaultFlavor?: string;
        /** WorkloadPriorityClasses by kind (left out when the cluster lacks them). */
        priorityClasses?: {
          /** Periodic tasks (CronJob). */
          periodic?: string;
          /** Every other task. */
          default?: string;
        };
      };
    };
    /**
     * Cost of runs (GET /cost, a run's `cost`, the team page's Cost tab): hours × pods × requests
     * (cpu cores, memory GiB, GPUs) × the prices of the run's flavor. Checked at startup: a bad
     * value stops the backend naming its key. Unset: every cost is 0 and there are no budgets.
     */
    cost?: {
      /** ISO 4217 currency code shown with every amount. Default `EUR`. */
      currency?: string;
      /** Prices per ResourceFlavor (pool) name, e.g. `regular`, `elastic`, `gpu`. */
      flavors?: {
        [flavor: string]: {
          /** Per CPU core-hour requested. */
          cpuHour?: number;
          /** Per GiB-hour of memory requested. */
          memoryGiBHour?: number;
          /** Per GPU-hour requested. */
          gpuHour?: number;
        };
      };
      /** Prices of a run without a flavor or of a flavor not listed (default all 0). */
      default?: {
        cpuHour?: number;
        memoryGiBHour?: number;
        gpuHour?: number;
      };
      /**
       * Monthly budgets (UTC calendar months): a team whose month (priced runs + running ones)
       * is over its budget gets 403 naming the budget on new tasks (POST /jobs, /jobs/batch,
       * /notebooks, /pipelines); platform admins may send `overrideBudget: true`.
       */
      budgets?: Array<{
        /** The team, `group:<namespace>/<name>` (the owner of its namespaces). */
        team: string;
        /** Amount per month in `currency`. */
        monthly: number;
      }>;
      /** Share of the budget from which the portal and the API warn (0…1, default 0.8). */
      warnAt?: number;
    };
    /** InferenceServices the informers find that the portal did not create. */
    discovery?: {
      /**
       * Publish them as catalog `InferenceService` entities
       * (`inferenceservice:default/<cluster>.<namespace>.<name>`), from the kubeai catalog module.
       */
      entityProvider?: {
        /** Default false. */
        enabled?: boolean;
        /** `spec.owner` of the entities. Default `group:default/kubeai-discovered`. */
        owner?: string;
        /** `spec.lifecycle` of the entities. Default `production`. */
        lifecycle?: 'experimental' | 'production' | 'deprecated';
        /** How often the provider refreshes, seconds. Default 60. */
        frequencySeconds?: number;
      };
    };
  };
}
