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
    };
  };
}
