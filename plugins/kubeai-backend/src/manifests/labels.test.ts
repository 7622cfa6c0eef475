import {
  entityLabelValue,
  isValidLabelValue,
  kubeaiAnnotations,
  kubeaiLabels,
  kubeaiSelector,
  modelLabelValue,
  toLabelValue,
} from './labels';

describe('labels', () => {
  it('always carries the manager label and the given identity', () => {
    expect(kubeaiLabels({})).toEqual({
      'app.kubernetes.io/managed-by': 'kubeai',
    });
    expect(
      kubeaiLabels({
        entityRef: 'component:default/shoe-brand-notebook',
        modelRef: 'model:default/shoe-brand',
        modelVersion: '3',
        runId: 'run-42',
      }),
    ).toEqual({
      'app.kubernetes.io/managed-by': 'kubeai',
      'kubeai.io/entity': 'component.default.shoe-brand-notebook',
      'kubeai.io/model': 'shoe-brand',
      'kubeai.io/model-version': '3',
      'kubeai.io/run': 'run-42',
    });
  });

  it('encodes entity and model references as valid label values', () => {
    expect(entityLabelValue('Model:Team-A/Shoe_Brand')).toBe(
      'model.team-a.shoe_brand',
    );
    expect(modelLabelValue('shoe-brand')).toBe('shoe-brand');
    expect(modelLabelValue('default/shoe-brand')).toBe('shoe-brand');
    expect(modelLabelValue('model:vision/shoe-brand')).toBe(
      'vision.shoe-brand',
    );
    const long = `component:default/${'x'.repeat(80)}`;
    const value = entityLabelValue(long);
    expect(isValidLabelValue(value)).toBe(true);
    expect(value).toHaveLength(63);
    expect(entityLabelValue(long)).toBe(value); // deterministic
    expect(entityLabelValue(`${long}y`)).not.toBe(value);
  });

  it('turns anything into a valid label value', () => {
    for (const raw of ['a b', '-x-', '***', 'ok', 'x'.repeat(100), 'ä']) {
      const value = toLabelValue(raw);
      expect(value.length).toBeGreaterThan(0);
      expect(isValidLabelValue(value)).toBe(true);
    }
    expect(toLabelValue('1.2.0')).toBe('1.2.0');
  });

  it('keeps full references in annotations and builds selectors', () => {
    expect(
      kubeaiAnnotations({ entityRef: 'Component:default/A', modelRef: 'b' }),
    ).toEqual({
      'kubeai.io/entity-ref': 'component:default/a',
      'kubeai.io/model-ref': 'model:default/b',
    });
    expect(kubeaiSelector({ modelRef: 'shoe-brand', modelVersion: '3' })).toBe(
      'app.kubernetes.io/managed-by=kubeai,kubeai.io/model=shoe-brand,kubeai.io/model-version=3',
    );
  });
});
