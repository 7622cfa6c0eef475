export interface Config {
  kubeai?: {
    /**
     * Links the KubeAI pages build for runs. Placeholders: `{id}`, `{kind}`, `{cluster}`,
     * `{namespace}`, `{name}`, `{uid}` (URL-encoded). A run's own `params.logsUrl` / `params.url`
     * win over these.
     */
    links?: {
      /**
       * Logs of a run, e.g. `https://grafana.example.com/explore?query={namespace}/{name}`.
       * @visibility frontend
       */
      runLogs?: string;
      /**
       * A notebook's UI, e.g. `https://kubeflow.example.com/notebook/{namespace}/{name}/`.
       * @visibility frontend
       */
      notebook?: string;
    };
  };
}
