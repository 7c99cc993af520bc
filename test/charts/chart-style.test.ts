/** Shared colour scales cut to the values a chart draws keep each value's colour. */
import { describe, expect, it } from 'vitest';
import { layerScale, opScale, scaleOf } from '../../src/charts/chart-style.js';

describe('scaleOf', () => {
  it('keeps the colours of the values kept, in the order given', () => {
    const cut = scaleOf(layerScale, ['host', 'guest']);
    expect(cut.domain).toEqual(['host', 'guest']);
    expect(cut.range).toEqual([layerScale.range[layerScale.domain.indexOf('host')], layerScale.range[layerScale.domain.indexOf('guest')]]);
    expect(scaleOf(opScale, []).domain).toEqual([]);
  });
  it('refuses a value the scale has no colour for', () => {
    expect(() => scaleOf(layerScale, ['guest', 'disk'])).toThrow(/"disk" is not in the scale \(expected one of app, guest, host/);
  });
});
