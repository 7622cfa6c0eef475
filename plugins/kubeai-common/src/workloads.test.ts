import type { ObservedKind, TrainingKind } from './api';
import {
  RUN_ROLES,
  TRAINING_WORKLOAD_KINDS,
  WORKLOAD_KINDS,
  WORKLOADS,
  preferredApiVersion,
  workloadKinds,
  type ClusterKind,
  type TrainingWorkloadKind,
} from './workloads';

/** True when A and B are the same union. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

// the types generated from openapi.yaml are the table's (a difference does not compile)
const sameAsTheSpec: [
  Same<TrainingKind, TrainingWorkloadKind>,
  Same<ObservedKind, ClusterKind>,
] = [true, true];

describe('the workload table', () => {
  it('has the kinds of the generated API types', () => {
    expect(sameAsTheSpec).toEqual([true, true]);
    expect(TRAINING_WORKLOAD_KINDS).toEqual(workloadKinds('training'));
    expect(RUN_ROLES).toEqual(['training', 'notebook', 'pipeline']);
  });

  it('gives the preferred apiVersion of a kind', () => {
    expect(preferredApiVersion('CronJob')).toBe('batch/v1');
    expect(preferredApiVersion('TFJob')).toBe('kubeflow.org/v1');
    expect(preferredApiVersion('PersistentVolumeClaim')).toBe('v1');
  });

  it('names the main replica among the replica types of each replicated kind', () => {
    for (const kind of WORKLOAD_KINDS) {
      const replicas = WORKLOADS[kind].replicas;
      if (!replicas) continue;
      const types: readonly string[] = replicas.types;
      expect([kind, replicas.main.every(t => types.includes(t))]).toEqual([
        kind,
        true,
      ]);
    }
  });
});
