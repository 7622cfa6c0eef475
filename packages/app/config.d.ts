export interface Config {
  auth?: {
    providers?: {
      /**
       * Development sign-in as one of the example catalog's people, without a password
       * (packages/backend/src/demoSignIn.ts); the sign-in page offers them next to guest.
       */
      demo?: {
        /**
         * False turns the provider off where app-config.yaml is merged with another file
         * (app-config.production.yaml). Default true.
         * @visibility frontend
         */
        enabled?: boolean;
        /**
         * The people one may sign in as: their User entity ref, and how the sign-in page shows
         * them.
         * @deepVisibility frontend
         */
        users?: Array<{
          /** `user:default/zhang.min` */
          entityRef: string;
          /** `Zhang Min` */
          title?: string;
          /** `Computer Vision (cv-team)` */
          description?: string;
        }>;
        /** Allow the provider when NODE_ENV is not `development`. Default false. */
        dangerouslyAllowOutsideDevelopment?: boolean;
      };
    };
  };
}
