import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quietTimeZone } from './quiet-zone.ts';

const localHour = (at: Date, timeZone: string) =>
  Number(new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', hourCycle: 'h23' }).format(at));

describe('quietTimeZone', () => {
  it('puts every hour of the UTC day at 14:00 local, in a zone Intl knows', () => {
    for (let h = 0; h < 24; h++) {
      const at = new Date(Date.UTC(2026, 11, 2, h, 37));
      const zone = quietTimeZone(at);
      assert.equal(localHour(at, zone), 14, `${at.toISOString()} in ${zone}`);
    }
  });

  it('names the zones in the POSIX sign convention', () => {
    assert.equal(quietTimeZone(new Date('2026-12-02T02:10:00Z')), 'Etc/GMT-12');
    assert.equal(quietTimeZone(new Date('2026-12-02T14:10:00Z')), 'Etc/GMT');
    assert.equal(quietTimeZone(new Date('2026-12-02T23:10:00Z')), 'Etc/GMT+9');
  });
});
