import { useApiHolder, configApiRef } from '@backstage/core-plugin-api';
import type { Run } from '@kubeai/plugin-kubeai-common';

/** Fills `{id}`, `{kind}`, `{cluster}`, `{namespace}`, `{name}`, `{uid}` of a link template. */
export function fillTemplate(template: string, run: Run): string {
  const values: Record<string, string | undefined> = {
    id: run.id,
    kind: run.kind,
    cluster: run.cluster,
    namespace: run.namespace,
    name: run.name,
    uid: run.uid,
  };
  return template.replace(/\{(\w+)\}/g, (m, key: string) =>
    key in values ? encodeURIComponent(values[key] ?? '') : m,
  );
}

function httpUrl(value: unknown): string | undefined {
  return typeof value === 'string' && /^https?:\/\//.test(value)
    ? value
    : undefined;
}

/** Links of a run: its logs and (notebooks) its UI, when known. */
export function useRunLinks() {
  const config = useApiHolder().get(configApiRef);
  const logsTemplate = config?.getOptionalString('kubeai.links.runLogs');
  const notebookTemplate = config?.getOptionalString('kubeai.links.notebook');
  return {
    logs: (run: Run) =>
      httpUrl(run.params.logsUrl) ??
      (logsTemplate ? fillTemplate(logsTemplate, run) : undefined),
    notebook: (run: Run) =>
      httpUrl(run.params.url) ??
      (notebookTemplate && run.kind === 'notebook'
        ? fillTemplate(notebookTemplate, run)
        : undefined),
  };
}
