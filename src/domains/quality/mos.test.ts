import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimateMos, mosFromR, rFactor } from './mos.ts';

describe('MOS model', () => {
  it('computes R for known inputs on both sides of the 160 ms knee', () => {
    // Le = 20 + 2*5 + 10 = 40 -> 93.2 - 1 = 92.2
    assert.equal(rFactor({ latency_ms: 20, jitter_ms: 5, packet_loss_percent: 0 }), 92.2);
    // Le = 200 + 20 + 10 = 230 -> 93.2 - 11 = 82.2, minus 2.5*2 = 77.2
    assert.ok(Math.abs(rFactor({ latency_ms: 200, jitter_ms: 10, packet_loss_percent: 2 }) - 77.2) < 1e-9);
  });

  it('maps R to MOS with the E-model polynomial', () => {
    assert.equal(mosFromR(0), 1);
    assert.equal(mosFromR(50), 2.58); // 1 + 1.75 + 7e-6*50*(-10)*50 = 2.575
    assert.equal(mosFromR(92.2), 4.39); // 1 + 3.227 + 7e-6*92.2*32.2*7.8 = 4.389
    assert.equal(mosFromR(100), 4.5);
  });

  it('scores known samples', () => {
    assert.equal(estimateMos({ latency_ms: 20, jitter_ms: 5, packet_loss_percent: 0 }), 4.39);
    assert.equal(estimateMos({ latency_ms: 200, jitter_ms: 10, packet_loss_percent: 2 }), 3.91); // R 77.2
    assert.equal(estimateMos({ latency_ms: 0, jitter_ms: 0, packet_loss_percent: 0 }), 4.4); // R 92.95
    assert.equal(estimateMos({ packet_loss_percent: 100 }), 1, 'total loss is the floor');
    assert.equal(estimateMos({ latency_ms: 5000 }), 1, 'absurd delay is the floor');
  });

  it('worsens monotonically with each impairment', () => {
    const base = { latency_ms: 50, jitter_ms: 5, packet_loss_percent: 1 };
    const s = estimateMos(base)!;
    assert.ok(estimateMos({ ...base, latency_ms: 300 })! < s);
    assert.ok(estimateMos({ ...base, jitter_ms: 60 })! < s);
    assert.ok(estimateMos({ ...base, packet_loss_percent: 8 })! < s);
  });

  it('gives no score without any network measurement; missing ones count as 0', () => {
    assert.equal(estimateMos({}), null);
    assert.equal(estimateMos({ latency_ms: null }), null);
    assert.equal(estimateMos({ latency_ms: 20 }), estimateMos({ latency_ms: 20, jitter_ms: 0, packet_loss_percent: 0 }));
  });
});
