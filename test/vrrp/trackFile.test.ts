import { describe, expect, it } from 'vitest';
import { FileTracker, InstanceTracking, parseTrackFileValue } from '../../src/vrrp/core/trackers.js';

describe('parseTrackFileValue (keepalived: strtol(buf, NULL, 0) on the first 127 bytes)', () => {
  it.each([
    ['', 0], ['\n', 0], ['abc', 0], ['0\n', 0], ['5\n', 5], ['  -7 trailing', -7], ['+3', 3],
    ['0x1f', 31], ['010', 8], ['09', 0], ['12abc', 12], ['2147483648', 2147483648],
  ])('%j → %d', (text, value) => {
    expect(parseTrackFileValue(text)).toBe(value);
  });

  it('refuses a number outside the 32-bit range (the previous value stays)', () => {
    expect(parseTrackFileValue('2147483649')).toBeUndefined();
    expect(parseTrackFileValue('-2147483649')).toBeUndefined();
    expect(parseTrackFileValue('99999999999999999999')).toBeUndefined();
  });

  it('reads no further than 127 bytes', () => {
    expect(parseTrackFileValue(`${' '.repeat(127)}5`)).toBe(0);
    expect(parseTrackFileValue(`${' '.repeat(126)}5`)).toBe(5);
  });
});

describe('FileTracker (keepalived track_file.c weights)', () => {
  const c = (weight: number, value: number, weightReverse = false) => new FileTracker({ name: 'f', weight, weightReverse }, value).contribution();

  it('weight N: value × weight added to the priority, clamped to -254..253; -254 means FAULT', () => {
    expect(c(1, 0)).toEqual({ delta: 0, fault: false });
    expect(c(1, 10)).toEqual({ delta: 10, fault: false });
    expect(c(-10, 3)).toEqual({ delta: -30, fault: false });
    expect(c(10, 100)).toEqual({ delta: 253, fault: false });
    expect(c(1, -253)).toEqual({ delta: -253, fault: false });
    expect(c(1, -254)).toEqual({ delta: 0, fault: true });
    expect(c(2, -1000)).toEqual({ delta: 0, fault: true });
  });

  it('reverse negates the product', () => {
    expect(c(10, 3, true)).toEqual({ delta: -30, fault: false });
    expect(c(1, 254, true)).toEqual({ delta: 0, fault: true });
  });

  it('weight 0: a non-zero value is FAULT, 0 is fine; reverse swaps the two', () => {
    expect(c(0, 0)).toEqual({ delta: 0, fault: false });
    expect(c(0, 1)).toEqual({ delta: 0, fault: true });
    expect(c(0, -5)).toEqual({ delta: 0, fault: true });
    expect(c(0, 0, true)).toEqual({ delta: 0, fault: true });
    expect(c(0, 7, true)).toEqual({ delta: 0, fault: false });
  });

  it('InstanceTracking sums file deltas with the rest and names the file as fault source', () => {
    const a = new FileTracker({ name: 'prio', weight: -10 }, 2);
    const b = new FileTracker({ name: 'stop', weight: 0 }, 0);
    const tracking = new InstanceTracking().addFile(a).addFile(b);
    expect(tracking.outcome()).toEqual({ priorityDelta: -20, faults: [] });
    expect(b.setValue(1)).toBe(true);
    expect(b.setValue(1)).toBe(false);
    expect(tracking.outcome()).toEqual({ priorityDelta: -20, faults: ['track_file stop'] });
  });
});
