/**
 * The registration CLI (`cli/kubeai.py`, Python standard library only) as pipeline steps run it:
 * `python3 -c <source> <command> …` in the pipeline's Python image, so no image of ours is needed.
 * It reads the run identity the pods get (./runIdentity.ts) and calls the KubeAI API with the
 * run's credential.
 */
import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { readFileSync } from 'node:fs';

let source: string | undefined;

/** The CLI's source, read once. */
export function kubeaiCliSource(): string {
  source ??= readFileSync(
    resolvePackagePath('@kubeai/plugin-kubeai-backend', 'cli/kubeai.py'),
    'utf8',
  );
  return source;
}

/** The container command of a step running `kubeai <args…>`. */
export function kubeaiCliCommand(): string[] {
  return ['python3', '-c', kubeaiCliSource()];
}
